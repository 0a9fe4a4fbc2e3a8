// A route sink that fails while another sink takes the alert still owes its page (the
// chaos harness's carrier-blocks-sender run: the SMS sink's breaker was open, Slack took
// the halt, and the SMS page was never sent). Real Redis and PostgreSQL stores, the real
// twilio and Slack SDKs against the local fake providers; time is an injected clock and
// maintenance is driven by hand, as a fleet runs it on a timer.
import { afterEach, describe, expect, it } from 'vitest';
import { requirePostgres, requireRedis } from '@hardening/test-support';
import { createAlertService, type AlertServiceOptions } from '../src/index.js';
import { captureLogger } from './support/capture-logger.js';
import { smsAndSlackSinks, useProviderFleet } from './support/provider-sinks.js';

const redisUp = await requireRedis();
const postgresUp = await requirePostgres();
const second = 1000;

for (const kind of ['redis', 'postgres'] as const) {
  describe.skipIf(kind === 'redis' ? !redisUp : !postgresUp)(`pages owed to a sink that failed while another took the alert (${kind} store)`, () => {
    const fleet = useProviderFleet(kind, 'alert-owed');
    let now = Date.parse('2026-04-01T03:00:00Z');
    afterEach(() => {
      now += 24 * 3_600_000;
    });

    /** One app instance: its own service on the shared store; HIGH goes to SMS and Slack, no fallback. */
    function instance(extra: Partial<AlertServiceOptions> = {}) {
      const logger = captureLogger();
      const alerts = createAlertService({
        sinks: smsAndSlackSinks(fleet.twilio, fleet.slack),
        routes: { HIGH: ['sms', 'slack'] },
        fallbackOrder: [],
        store: fleet.store,
        clock: { now: () => now },
        logger,
        maintenanceIntervalMs: false,
        pendingAlertAfterMs: false,
        retry: { attempts: 1, timeoutMs: 3000, breaker: false },
        env: {},
        ...extra,
      });
      fleet.started.push(alerts);
      return { alerts, logger };
    }

    const halt = (resourceId: string) => ({
      type: `SENDER_HALTED_${kind.toUpperCase()}`,
      severity: 'HIGH' as const,
      resourceId,
      title: `Sender halted for ${resourceId}`,
      message: 'The carrier refuses every message from this number.',
    });
    const smsFor = (resourceId: string) => fleet.twilio.messages.filter((m) => m.body.includes(resourceId)).length;
    const slackFor = (resourceId: string) => fleet.slack.messages.filter((m) => JSON.stringify(m).includes(resourceId)).length;

    it('Twilio failing, Slack up (3 instances): Slack has the alert at once, the SMS is retried by the fleet and sent exactly once when Twilio answers', async () => {
      const instances = [instance(), instance(), instance()];
      const resourceId = `client_${kind}_owed`;
      fleet.twilio.fail({ status: 500, times: 100_000 });
      const first = await instances[0]!.alerts.sendCriticalAlert(halt(resourceId));
      expect(first).toMatchObject({ status: 'delivered', deliveredTo: ['slack'], failedSinks: ['sms'] });
      expect(instances[0]!.alerts.getAlertSystemStatus().pending.count).toBe(1);

      // 60 s of Twilio outage in 5 s rounds: the alert keeps firing on every instance (a
      // duplicate each time), and every instance runs its maintenance.
      for (let t = 0; t < 60 * second; t += 5 * second) {
        now += 5 * second;
        for (const { alerts } of instances) {
          expect((await alerts.sendCriticalAlert(halt(resourceId))).status).toBe('suppressed');
          await alerts.runMaintenance();
        }
      }
      expect(fleet.twilio.requests.length).toBeGreaterThan(1); // retried during the outage
      expect(smsFor(resourceId)).toBe(0);
      const owedLines = instances.flatMap(({ logger }) => logger.lines.filter((l) => l.msg?.startsWith('ALERT STILL OWED to sms')));
      expect(owedLines.length).toBeGreaterThan(0);
      expect(owedLines[0]!.level).toBe('error');
      expect(owedLines[0]!.msg).toMatch(/it reached slack/);

      fleet.twilio.clearFaults();
      for (let t = 0; t < 60 * second && smsFor(resourceId) === 0; t += 5 * second) {
        now += 5 * second;
        for (const { alerts } of instances) await alerts.runMaintenance();
      }
      // More rounds, and more occurrences: nothing more is sent.
      for (let round = 0; round < 3; round++) {
        now += 30 * second;
        for (const { alerts } of instances) {
          expect((await alerts.sendCriticalAlert(halt(resourceId))).status).toBe('suppressed');
          await alerts.runMaintenance();
        }
      }
      expect(smsFor(resourceId)).toBe(1);
      expect(slackFor(resourceId)).toBe(1);
      expect(instances[0]!.alerts.getAlertSystemStatus().pending.count).toBe(0);
      const logs = instances.map(({ logger }) => logger.text()).join('\n');
      expect(logs).not.toMatch(/ALERT LOST/);
      expect(logs).not.toMatch(/5551234567/);
      // The owed page did not write the alert to the log as undelivered: Slack had it.
      expect(logs).not.toMatch(/ALERT NOT DELIVERED: no sink took/);
    }, 60_000);

    it('the SMS breaker open when the alert is raised (the chaos case): the owed page is the call that finds Twilio back, and the SMS goes once', async () => {
      const { alerts } = instance({ retry: { attempts: 1, timeoutMs: 3000, breaker: { failureThreshold: 1, cooldownMs: 300 } } });
      fleet.twilio.fail({ status: 500, times: 1 });
      const earlier = await alerts.sendCriticalAlert(halt(`client_${kind}_tripped`));
      expect(earlier).toMatchObject({ status: 'delivered', failedSinks: ['sms'] });
      expect(alerts.getAlertSystemStatus().breakers.sms).toBe('open');

      const resourceId = `client_${kind}_behind_open_breaker`;
      const result = await alerts.sendCriticalAlert(halt(resourceId));
      expect(result).toMatchObject({ status: 'delivered', deliveredTo: ['slack'], failedSinks: ['sms'] });
      expect(fleet.twilio.requests).toHaveLength(1); // not called: the breaker is open
      expect(slackFor(resourceId)).toBe(1);

      // Past the breaker's cooldown (real time), maintenance retries the owed pages.
      await new Promise((resolve) => setTimeout(resolve, 400));
      for (let round = 0; round < 12 && smsFor(resourceId) === 0; round++) {
        now += 5 * second;
        await alerts.runMaintenance();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      for (let round = 0; round < 3; round++) {
        now += 30 * second;
        await alerts.runMaintenance();
      }
      expect(smsFor(resourceId)).toBe(1);
      expect(smsFor(`client_${kind}_tripped`)).toBe(1);
      expect(slackFor(resourceId)).toBe(1);
      expect(alerts.getAlertSystemStatus().breakers.sms).toBe('closed');
    });

    it('an alert acknowledged (on another instance) while its SMS is owed: the SMS is dropped, not sent late', async () => {
      const [a, b] = [instance(), instance()];
      const resourceId = `client_${kind}_acked`;
      fleet.twilio.fail({ status: 500, times: 100_000 });
      const result = await a.alerts.sendCriticalAlert(halt(resourceId));
      expect(result.failedSinks).toEqual(['sms']);
      expect((await b.alerts.acknowledge(result.alertId, { by: 'alice', via: 'slack' })).status).toBe('acknowledged');
      fleet.twilio.clearFaults();
      for (let round = 0; round < 6; round++) {
        now += 10 * second;
        await a.alerts.runMaintenance();
      }
      expect(smsFor(resourceId)).toBe(0);
      expect(a.alerts.getAlertSystemStatus().pending.count).toBe(0);
      const history = await fleet.store.history({ since: now - 3_600_000, type: halt(resourceId).type });
      expect(history.some((h) => h.outcome === 'suppressed' && /dropped: the alert was acknowledged/.test(h.detail ?? ''))).toBe(true);
    });

    it('an alert resolved while its SMS is owed: the page is cancelled; the resolve notice goes to Slack, which had the alert', async () => {
      const { alerts } = instance();
      const resourceId = `client_${kind}_resolved`;
      fleet.twilio.fail({ status: 500, times: 100_000 });
      expect((await alerts.sendCriticalAlert(halt(resourceId))).failedSinks).toEqual(['sms']);
      expect((await alerts.resolveAlert({ type: halt(resourceId).type, resourceId })).status).toBe('resolved');
      fleet.twilio.clearFaults();
      for (let round = 0; round < 6; round++) {
        now += 10 * second;
        await alerts.runMaintenance();
      }
      expect(smsFor(resourceId)).toBe(0);
      expect(slackFor(resourceId)).toBe(2);
      expect(alerts.getAlertSystemStatus().pending.count).toBe(0);
    });

    it('an SMS owed for the page queue’s whole life is given up with an error that says Slack had it (no "ALERT LOST"), and the key stays held', async () => {
      const { alerts, logger } = instance({ pendingRetry: { expireAfterMs: 60 * second } });
      const resourceId = `client_${kind}_given_up`;
      fleet.twilio.fail({ status: 500, times: 100_000 });
      await alerts.sendCriticalAlert(halt(resourceId));
      for (let t = 0; t <= 60 * second; t += 10 * second) {
        now += 10 * second;
        await alerts.runMaintenance();
      }
      const givenUp = logger.lines.filter((l) => l.msg?.startsWith('ALERT NOT DELIVERED via sms') && /given up/.test(l.msg));
      expect(givenUp).toHaveLength(1);
      expect(givenUp[0]!.level).toBe('error');
      expect(givenUp[0]!.msg).toMatch(/it reached slack/);
      expect(logger.lines.some((l) => l.msg?.startsWith('ALERT LOST'))).toBe(false);
      fleet.twilio.clearFaults();
      now += second;
      await alerts.runMaintenance();
      expect(smsFor(resourceId)).toBe(0);
      // The alert was delivered (to Slack): its next occurrence inside the window is a duplicate.
      expect((await alerts.sendCriticalAlert(halt(resourceId))).status).toBe('suppressed');
    });
  });
}
