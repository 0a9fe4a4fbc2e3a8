// Acknowledgement and escalation policies from the caller's side, with two service
// instances on one real store (Redis, then PostgreSQL): a policy's steps fire once
// fleet-wide however many instances run the maintenance round, an acknowledgement (API,
// SMS reply, Slack button) made on one instance stops escalation on all of them, is in the
// history and in the status, and a resolve stops escalation too.
import { createHmac } from 'node:crypto';
import { WebClient } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, requirePostgres, requireRedis, startFakeSlack, startFakeTwilio, type FakeSlack, type FakeTwilio } from '@hardening/test-support';
import {
  ackCode,
  createAlertService,
  createSlackAckHandler,
  createSlackSink,
  createTwilioSmsSink,
  type AlertService,
  type AlertServiceOptions,
  type AlertStore,
} from '../src/index.js';
import { captureLogger } from './support/capture-logger.js';
import { openSharedStore, type SharedStore } from './support/shared-store.js';

const redisUp = await requireRedis();
const postgresUp = await requirePostgres();
const minute = 60_000;
const signingSecret = 'slack-signing-secret-for-tests';
const operator = '+15551234567';

for (const kind of ['redis', 'postgres'] as const) {
  describe.skipIf(kind === 'redis' ? !redisUp : !postgresUp)(`acknowledgement and escalation policy (${kind}, 2 instances)`, () => {
    let shared: SharedStore;
    let store: AlertStore;
    let twilio: FakeTwilio;
    let slack: FakeSlack;
    let now = Date.parse('2026-03-01T03:00:00Z');
    const started: AlertService[] = [];
    let serial = 0;

    beforeAll(async () => {
      [shared, twilio, slack] = await Promise.all([openSharedStore(kind, 'alert-ack'), startFakeTwilio(), startFakeSlack()]);
      store = shared.store;
    });
    afterAll(async () => {
      await Promise.all([shared.close(), twilio.close(), slack.close()]);
    });
    afterEach(async () => {
      await Promise.all(started.splice(0).map((s) => s.close()));
      twilio.messages.length = 0;
      slack.messages.length = 0;
    });

    const policy: AlertServiceOptions['escalation'] = {
      steps: [
        { afterMs: 10 * minute, sinks: ['slack'] },
        { afterMs: 30 * minute, sinks: ['sms'], severity: 'HIGH' },
      ],
    };

    function instance(options: Partial<AlertServiceOptions> = {}) {
      const alerts = createAlertService({
        sinks: [
          createTwilioSmsSink({ client: twilio.client(), from: '+15557654321', to: [operator], ackHint: true }),
          createSlackSink({
            client: new WebClient('xoxb-t', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } }),
            channel: '#alerts',
            minIntervalMs: 0,
            ackButton: true,
          }),
        ],
        routes: { HIGH: ['sms', 'slack'], MEDIUM: ['slack'] },
        store,
        clock: { now: () => now },
        logger: captureLogger(),
        maintenanceIntervalMs: false,
        retry: { initialDelayMs: 10, timeoutMs: 5000 },
        escalation: policy,
        env: {},
        ...options,
      });
      started.push(alerts);
      return alerts;
    }
    // A fresh type per case: the store is shared by the cases.
    const alert = (severity: 'HIGH' | 'MEDIUM' = 'HIGH') => ({
      type: `QUEUE_BACKLOG_${kind.toUpperCase()}_${++serial}`,
      severity,
      resourceId: `queue-${serial}`,
      title: 'Outbound queue backlog',
      message: '900 messages waiting',
    });
    const escalations = () => ({
      slack: slack.messages.filter((m) => (m.text ?? '').includes('[ESCALATED')).length,
      sms: twilio.messages.filter((m) => m.body.includes('[ESCALATED')).length,
    });
    const round = (...instances: AlertService[]) => Promise.all(instances.map((s) => s.runMaintenance()));

    it('each step of the policy fires exactly once fleet-wide, at its time, with both instances running every round', async () => {
      const [a, b] = [instance(), instance()];
      const raised = alert();
      expect((await a.sendCriticalAlert(raised)).status).toBe('delivered');
      await round(a, b);
      expect(escalations()).toEqual({ slack: 0, sms: 0 });

      now += 11 * minute;
      await round(a, b);
      await round(a, b);
      expect(escalations()).toEqual({ slack: 1, sms: 0 });

      now += 20 * minute;
      await round(a, b);
      await round(b, a);
      expect(escalations()).toEqual({ slack: 1, sms: 1 });
      expect(twilio.messages.at(-1)!.body).toContain(`Reply ACK ${ackCode(raised.type, raised.resourceId)}`);

      now += 60 * minute;
      await round(a, b);
      expect(escalations()).toEqual({ slack: 1, sms: 1 });
      await Promise.all([a.close(), b.close()]);
      const rows = (await store.history({ since: 0, type: raised.type })).filter((r) => r.outcome === 'escalated');
      expect(rows.map((r) => r.detail).sort()).toEqual([expect.stringMatching(/^policy step 1 of 2/), expect.stringMatching(/^policy step 2 of 2/)]);
    });

    it('an acknowledgement through the API on one instance stops escalation on both, is in the history and in the status', async () => {
      const [a, b] = [instance(), instance()];
      const raised = alert();
      const result = await a.sendCriticalAlert(raised);
      now += 5 * minute;
      const outcome = await b.acknowledge(result.alertId, { by: 'alice' });
      expect(outcome).toMatchObject({
        status: 'acknowledged',
        ack: { type: raised.type, key: raised.resourceId, by: 'alice', via: 'api', code: ackCode(raised.type, raised.resourceId) },
      });
      expect(await a.acknowledge(result.alertId, { by: 'bob' })).toMatchObject({ status: 'already_acknowledged', ack: { by: 'alice' } });

      now += 40 * minute;
      await round(a, b);
      await round(a, b);
      expect(escalations()).toEqual({ slack: 0, sms: 0 });
      expect(a.getAlertSystemStatus().acknowledged).toEqual([expect.objectContaining({ type: raised.type, by: 'alice', via: 'api' })]);
      await Promise.all([a.close(), b.close()]);
      const rows = await store.history({ since: 0, type: raised.type });
      expect(rows.filter((r) => r.outcome === 'acknowledged').map((r) => r.detail)).toEqual(['by alice via api']);
      expect((await a.getAlertStats({ hours: 24 * 30 })).byType[raised.type]?.acknowledged).toBe(1);
    });

    it('an SMS reply "ACK <code>" from the on-call phone acknowledges that alert; a bare "ACK" the newest one; anything else is not for alerting', async () => {
      const [a, b] = [instance(), instance()];
      const first = alert();
      const second = alert();
      await a.sendCriticalAlert(first);
      now += 1000;
      await a.sendCriticalAlert(second);
      const sms = twilio.messages.find((m) => m.body.includes(first.type))!;
      const code = /Reply ACK ([A-Z0-9]{5})$/.exec(sms.body)![1]!;

      expect(await b.handleSmsReply({ from: operator, body: 'thanks, looking' })).toEqual({ handled: false });
      const byCode = await b.handleSmsReply({ from: operator, body: ` ack ${code.toLowerCase()} ` });
      expect(byCode).toMatchObject({ handled: true, outcome: { status: 'acknowledged', ack: { type: first.type, via: 'sms' } } });
      if (!byCode.handled || byCode.outcome?.status !== 'acknowledged') throw new Error('not acknowledged');
      expect(byCode.outcome.ack.by).not.toContain('1234567'); // the phone number is masked
      expect(byCode.reply).toBe(`Acknowledged ${first.type} (${code}). Escalation stopped.`);
      const bare = await a.handleSmsReply({ from: operator, body: 'ACK' });
      expect(bare).toMatchObject({ handled: true, outcome: { status: 'acknowledged', ack: { type: second.type } } });
      expect(await a.handleSmsReply({ from: operator, body: 'ACK ZZZZZ' })).toMatchObject({ handled: true, outcome: { status: 'not_found' } });

      now += 40 * minute;
      await round(a, b);
      expect(escalations()).toEqual({ slack: 0, sms: 0 });
    });

    it('an operator who answers the SMS while another sink is still slow finds the alert: it is indexed before the sinks are called', async () => {
      const [a, b] = [instance(), instance()];
      const raised = alert();
      slack.fail({ delayMs: 1500, match: (request) => request.path.endsWith('chat.postMessage') });
      const sending = a.sendCriticalAlert(raised);
      await eventually(() => twilio.messages.some((m) => m.body.includes(raised.type)), 5000);
      const sms = twilio.messages.find((m) => m.body.includes(raised.type))!;
      const code = /Reply ACK ([A-Z0-9]{5})$/.exec(sms.body)![1]!;
      const early = await b.handleSmsReply({ from: operator, body: `ACK ${code}` });
      expect(early).toMatchObject({ handled: true, outcome: { status: 'acknowledged', ack: { type: raised.type, via: 'sms' } } });
      expect((await sending).status).toBe('delivered');
    });

    it('the Slack "Acknowledge" button acknowledges through a signed interactive request; a forged or stale one is refused', async () => {
      const [a, b] = [instance(), instance()];
      const raised = alert();
      await a.sendCriticalAlert(raised);
      const posted = slack.messages.find((m) => (m.text ?? '').includes(raised.type))!;
      const actions = (posted.blocks as Array<{ type: string; elements?: Array<{ action_id?: string; value?: string }> }>).find(
        (block) => block.type === 'actions',
      )!;
      const button = actions.elements!.find((e) => e.action_id === 'hardening_alert_ack')!;
      const payload = { type: 'block_actions', user: { id: 'U0123', username: 'carol' }, actions: [{ action_id: button.action_id, value: button.value }] };
      const rawBody = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      const sign = (body: string, at: number, secret = signingSecret) => ({
        'x-slack-request-timestamp': String(at),
        'x-slack-signature': `v0=${createHmac('sha256', secret).update(`v0:${at}:${body}`).digest('hex')}`,
        'content-type': 'application/x-www-form-urlencoded',
      });
      const handle = createSlackAckHandler({ alerts: b, signingSecret, clock: { now: () => now }, logger: captureLogger() });
      const seconds = Math.floor(now / 1000);

      const forged = await handle({ rawBody, headers: sign(rawBody, seconds, 'wrong-secret') });
      expect(forged.status).toBe(401);
      expect(forged.headers['content-type']).toBe('application/problem+json');
      expect((await handle({ rawBody, headers: sign(rawBody, seconds - 301) })).status).toBe(401);
      expect(a.getAlertSystemStatus().acknowledged.some((ack) => ack.type === raised.type)).toBe(false);

      const answer = await handle({ rawBody: Buffer.from(rawBody), headers: sign(rawBody, seconds) });
      expect(answer).toMatchObject({ status: 200, outcome: { status: 'acknowledged', ack: { type: raised.type, by: 'slack:carol', via: 'slack' } } });
      now += 40 * minute;
      await round(a, b);
      expect(escalations()).toEqual({ slack: 0, sms: 0 });
      expect(a.getAlertSystemStatus().acknowledged.map((ack) => ack.type)).toContain(raised.type);
    });

    it('resolving the alert stops its escalation and ends its acknowledgement; a new occurrence escalates again', async () => {
      const [a, b] = [instance(), instance()];
      const raised = alert();
      await a.sendCriticalAlert(raised);
      await b.acknowledge({ type: raised.type, resourceId: raised.resourceId }, { by: 'dave' });
      now += 2 * minute;
      expect((await b.resolveAlert({ type: raised.type, resourceId: raised.resourceId })).status).toBe('resolved');
      await round(a, b);
      expect(a.getAlertSystemStatus().acknowledged.map((ack) => ack.type)).not.toContain(raised.type);
      now += 40 * minute;
      await round(a, b);
      expect(escalations()).toEqual({ slack: 0, sms: 0 });

      expect((await b.sendCriticalAlert(raised)).status).toBe('delivered');
      now += 11 * minute;
      await round(a, b);
      expect(escalations()).toEqual({ slack: 1, sms: 0 });
    });

    it('the default policy (no `escalation`): an acknowledged MEDIUM alert is not escalated after escalateAfterMs; an unacknowledged one is, once', async () => {
      const [a, b] = [instance({ escalation: undefined }), instance({ escalation: undefined })];
      const acked = alert('MEDIUM');
      const ignored = alert('MEDIUM');
      await a.sendCriticalAlert(acked);
      await a.sendCriticalAlert(ignored);
      await b.acknowledge({ type: acked.type, resourceId: acked.resourceId }, { by: 'erin' });
      now += 12 * 60 * minute + minute;
      // Raised again (the default policy skips alerts gone quiet).
      await a.sendCriticalAlert(acked);
      await a.sendCriticalAlert(ignored);
      await round(a, b);
      await round(a, b);
      const escalated = slack.messages.filter((m) => (m.text ?? '').includes('[ESCALATED'));
      expect(escalated.map((m) => m.text!.includes(ignored.type))).toEqual([true]);
      expect(twilio.messages.filter((m) => m.body.includes('[ESCALATED')).map((m) => m.body.includes(ignored.type))).toEqual([true]);
    });
  });
}

describe('escalation policy configuration', () => {
  it('refuses a policy with steps out of order, an unknown sink, or a bad severity, naming the field', () => {
    const base = { logger: captureLogger(), maintenanceIntervalMs: false as const, env: {} };
    expect(() => createAlertService({ ...base, escalation: { steps: [{ afterMs: 600_000 }, { afterMs: 60_000 }] } })).toThrow(
      /`escalation.steps\[1\].afterMs` to be a number of milliseconds greater than 600000/,
    );
    expect(() => createAlertService({ ...base, escalation: { steps: [{ afterMs: 60_000, sinks: ['pager'] }] } })).toThrow(
      /`escalation.steps\[0\].sinks` names the sink "pager"/,
    );
    expect(() => createAlertService({ ...base, types: { X: { escalation: { steps: [{ afterMs: 60_000, severity: 'URGENT' as never }] } } } })).toThrow(
      /`types.X.escalation.steps\[0\].severity`/,
    );
    expect(() => createAlertService({ ...base, escalation: { steps: [] } })).toThrow(TypeError);
  });

  it('acknowledge refuses a missing target or `by` with a TypeError', async () => {
    const alerts = createAlertService({ logger: captureLogger(), maintenanceIntervalMs: false, env: {} });
    await expect(alerts.acknowledge('', { by: 'x' })).rejects.toThrow(TypeError);
    await expect(alerts.acknowledge('abc', { by: '' })).rejects.toThrow(/options.by/);
    await alerts.close();
  });
});
