// Issue 10, defects 2 and 3, from the caller's side on real Redis and PostgreSQL, with the
// real twilio and Slack SDKs talking to the local fake providers. Time is an injected clock
// and maintenance is driven by hand (runMaintenance), as a fleet would run it on a timer.
import { describe, expect, it } from 'vitest';
import { requirePostgres, requireRedis } from '@hardening/test-support';
import { createAlertService, type AlertServiceOptions } from '../src/index.js';
import { captureLogger } from './support/capture-logger.js';
import { smsAndSlackSinks, useProviderFleet } from './support/provider-sinks.js';

const redisUp = await requireRedis();
const postgresUp = await requirePostgres();
const second = 1000;

for (const kind of ['redis', 'postgres'] as const) {
  describe.skipIf(kind === 'redis' ? !redisUp : !postgresUp)(`pending pages and lost alerts (${kind} store)`, () => {
    const fleet = useProviderFleet(kind, 'alert-pending');
    let now = Date.parse('2026-03-01T03:00:00Z');

    /** One app instance: its own service on the shared store. */
    function instance(extra: Partial<AlertServiceOptions> = {}) {
      const logger = captureLogger();
      const alerts = createAlertService({
        sinks: smsAndSlackSinks(fleet.twilio, fleet.slack, { statusCallbackUrl: 'http://127.0.0.1:1/status' }),
        store: fleet.store,
        clock: { now: () => now },
        logger,
        maintenanceIntervalMs: false,
        pendingAlertAfterMs: false,
        retry: { attempts: 2, initialDelayMs: 5, timeoutMs: 3000, breaker: false },
        env: {},
        ...extra,
      });
      fleet.started.push(alerts);
      return { alerts, logger };
    }

    const alertFor = (resourceId: string, severity: 'HIGH' | 'MEDIUM' | 'LOW' = 'HIGH') => ({
      type: `PAYMENT_BLOCK_${kind.toUpperCase()}`,
      severity,
      resourceId,
      title: `Payments blocked for ${resourceId}`,
      message: 'The card processor refuses every charge.',
    });

    it('providers down 60 s: every alert raised meanwhile (3 instances, repeated rounds) is delivered after recovery, once, none lost', async () => {
      const instances = [instance(), instance(), instance()];
      fleet.twilio.fail({ status: 500, times: 100_000 });
      fleet.slack.fail({ status: 500, times: 100_000 });
      const resources = Array.from({ length: 8 }, (_, i) => `client_${kind}_${i}`);
      // 60 s of outage in 5 s monitor rounds: each round, every instance raises every alert
      // still firing and runs its maintenance (retrying due pages).
      for (let t = 0; t < 60 * second; t += 5 * second) {
        for (const [i, { alerts }] of instances.entries()) {
          const results = await Promise.all(resources.filter((_, r) => (r + i + t / 5000) % 3 === 0).map((id) => alerts.sendCriticalAlert(alertFor(id))));
          for (const result of results) expect(result.status).not.toBe('delivered');
          await alerts.runMaintenance();
        }
        now += 5 * second;
      }
      expect(fleet.twilio.messages).toHaveLength(0);
      const pendingDuring = instances[0]!.alerts.getAlertSystemStatus().pending.count;
      expect(pendingDuring).toBe(resources.length);
      expect(instances[0]!.alerts.getAlertSystemStatus().problems.join('\n')).toMatch(/8 page\(s\) pending/);

      // Providers back: maintenance rounds alone (no new occurrence) deliver every page.
      fleet.twilio.clearFaults();
      fleet.slack.clearFaults();
      const recoveredAt = now;
      for (let t = 0; t < 60 * second && fleet.twilio.messages.length < resources.length; t += 5 * second) {
        now += 5 * second;
        for (const { alerts } of instances) await alerts.runMaintenance();
      }
      const deliveredWithinMs = now - recoveredAt;
      const smsPerResource = resources.map((id) => fleet.twilio.messages.filter((m) => m.body.includes(id)).length);
      const slackPerResource = resources.map((id) => fleet.slack.messages.filter((m) => JSON.stringify(m).includes(id)).length);
      console.log(
        `[alerting pending pages] ${kind}: ${resources.length} alerts raised during a 60 s outage -> SMS per alert ${JSON.stringify(smsPerResource)}, Slack per alert ${JSON.stringify(slackPerResource)}, all delivered within ${deliveredWithinMs / 1000} s of recovery`,
      );
      expect(smsPerResource).toEqual(resources.map(() => 1));
      expect(slackPerResource).toEqual(resources.map(() => 1));
      expect(deliveredWithinMs).toBeLessThanOrEqual(60 * second);
      for (const { alerts } of instances) await alerts.runMaintenance();
      expect(instances[0]!.alerts.getAlertSystemStatus().pending.count).toBe(0);
      // And the next round of each alert is a duplicate of the delivered page, not a new page.
      for (const id of resources) expect((await instances[1]!.alerts.sendCriticalAlert(alertFor(id))).status).toBe('suppressed');
      expect(fleet.twilio.messages).toHaveLength(resources.length);
      const lost = instances.flatMap(({ logger }) => logger.lines.filter((l) => l.msg?.startsWith('ALERT LOST')));
      expect(lost).toEqual([]);
    }, 120_000);

    it('a page nobody could take for its whole life expires with one loud "ALERT LOST", and frees its key', async () => {
      const { alerts, logger } = instance({ pendingRetry: { expireAfterMs: 60 * second } });
      fleet.twilio.fail({ status: 500, times: 100_000 });
      fleet.slack.fail({ status: 500, times: 100_000 });
      const first = await alerts.sendCriticalAlert(alertFor(`client_${kind}_expiring`));
      expect(first.status).toBe('failed');
      expect(Date.parse(first.pendingUntil!)).toBe(now + 60 * second);
      for (let t = 0; t <= 60 * second; t += 10 * second) {
        now += 10 * second;
        await alerts.runMaintenance();
      }
      const lost = logger.lines.filter((l) => l.msg?.startsWith('ALERT LOST'));
      expect(lost).toHaveLength(1);
      expect(lost[0]!.msg).toMatch(/expired undelivered/);
      fleet.twilio.clearFaults();
      fleet.slack.clearFaults();
      now += second;
      await alerts.runMaintenance();
      expect(fleet.twilio.messages).toHaveLength(0); // expired pages are not sent late
      expect((await alerts.sendCriticalAlert(alertFor(`client_${kind}_expiring`))).status).toBe('delivered');
    });

    it('an SMS reported undelivered whose fallback fails too releases its key: the next round is sent, not suppressed', async () => {
      const { alerts } = instance({ routes: { HIGH: ['sms'] }, fallbackOrder: ['slack'] });
      const resourceId = `client_${kind}_undelivered`;
      const sent = await alerts.sendCriticalAlert(alertFor(resourceId));
      expect(sent.status).toBe('delivered');
      fleet.slack.fail({ status: 500, times: 100 });
      expect(await alerts.handleDeliveryStatus({ deliveryId: sent.awaitingConfirmation![0]!, status: 'undelivered', errorCode: '30003' })).toBe('fell_back');
      fleet.slack.clearFaults();
      const next = await alerts.sendCriticalAlert(alertFor(resourceId));
      expect(next.status).toBe('delivered');
      expect(fleet.twilio.messages.filter((m) => m.body.includes(resourceId))).toHaveLength(2);
    });

    it('an SMS with no receipt in time and a failing fallback: the page is retried, and the next round is not suppressed', async () => {
      const { alerts } = instance({ routes: { HIGH: ['sms'] }, fallbackOrder: ['slack'], confirmTimeoutMs: 60 * second });
      const resourceId = `client_${kind}_silent`;
      expect((await alerts.sendCriticalAlert(alertFor(resourceId))).status).toBe('delivered');
      fleet.slack.fail({ status: 500, times: 100 });
      now += 61 * second;
      expect(await alerts.runMaintenance()).toMatchObject({ unconfirmed: 1 });
      expect(alerts.getAlertSystemStatus().pending.count).toBe(1);
      fleet.slack.clearFaults();
      const next = await alerts.sendCriticalAlert(alertFor(resourceId));
      expect(next.status).toBe('delivered');
    });

    it('an alert whose severity rises inside its window is sent again at the new severity (LOW at 2 h, MEDIUM at 4 h)', async () => {
      const { alerts } = instance({ routes: { LOW: ['slack'], MEDIUM: ['slack'], HIGH: ['sms', 'slack'] } });
      const resourceId = `client_${kind}_rising`;
      expect((await alerts.sendCriticalAlert(alertFor(resourceId, 'LOW'))).status).toBe('delivered');
      now += 2 * 3_600_000;
      expect((await alerts.sendCriticalAlert(alertFor(resourceId, 'LOW'))).status).toBe('suppressed');
      now += 2 * 3_600_000;
      const medium = await alerts.sendCriticalAlert(alertFor(resourceId, 'MEDIUM'));
      expect(medium).toMatchObject({ status: 'delivered', severity: 'MEDIUM' });
      expect((await alerts.sendCriticalAlert(alertFor(resourceId, 'LOW'))).status).toBe('suppressed');
      expect(fleet.slack.messages.filter((m) => JSON.stringify(m).includes(resourceId))).toHaveLength(2);
    });
  });
}
