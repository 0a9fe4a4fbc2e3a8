// Providers down (500s, hangs): retries, then fallback, then the pending-page queue; the app keeps
// serving. Real SDKs against the fake providers.
import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakePagerDuty, startFakeSlack, startFakeTwilio, type FakePagerDuty, type FakeSlack, type FakeTwilio } from '@hardening/test-support';
import { createAlertService, createPagerDutySink, type AlertServiceOptions } from '../src/index.js';
import { captureLogger } from './support/capture-logger.js';
import { smsAndSlackSinks } from './support/provider-sinks.js';

const routingKey = 'R0UT1NGKEY0123456789abcdefABCDEF';
const alert = {
  type: 'PAYMENT_WEBHOOK_FAILING',
  severity: 'HIGH' as const,
  resourceId: 'client_42',
  title: 'Stripe webhooks failing',
  message: 'Customer +15559876543 is waiting',
};

describe('provider outages', () => {
  let twilio: FakeTwilio;
  let slack: FakeSlack;
  let pagerduty: FakePagerDuty;
  let app: Server;
  let appUrl: string;

  beforeAll(async () => {
    [twilio, slack, pagerduty] = await Promise.all([startFakeTwilio(), startFakeSlack(), startFakePagerDuty()]);
    app = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${(app.address() as { port: number }).port}/health`;
  });
  afterAll(async () => {
    await Promise.all([twilio.close(), slack.close(), pagerduty.close()]);
    await new Promise((resolve) => app.close(resolve));
  });
  afterEach(() => {
    for (const fake of [twilio, slack, pagerduty]) {
      fake.clearFaults();
      fake.clearRequests();
    }
    twilio.messages.length = 0;
    slack.messages.length = 0;
    pagerduty.events.length = 0;
  });

  function service(extra: Partial<AlertServiceOptions> = {}) {
    const logger = captureLogger();
    const alerts = createAlertService({
      sinks: [...smsAndSlackSinks(twilio, slack), createPagerDutySink({ routingKey, url: pagerduty.eventsUrl })],
      logger,
      maintenanceIntervalMs: false,
      ...extra,
    });
    return { alerts, logger };
  }

  it('Twilio answering 503: 3 attempts waiting 1 s then 2 s (the defaults), then PagerDuty takes the SMS’s place', async () => {
    const { alerts, logger } = service();
    twilio.fail({ status: 503, times: 3 });
    const result = await alerts.sendCriticalAlert(alert);

    expect(result).toMatchObject({ status: 'delivered', deliveredTo: ['slack', 'pagerduty'], failedSinks: ['sms'], fellBack: true });
    const attempts = twilio.requests.map((r) => r.receivedAt);
    expect(twilio.requests.map((r) => r.status)).toEqual([503, 503, 503]);
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(950);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(1950);
    expect(slack.messages).toHaveLength(1);
    expect(pagerduty.events).toHaveLength(1);

    const lost = logger.lines.find((l) => l.msg?.startsWith('ALERT NOT DELIVERED via sms'))!;
    expect(lost.level).toBe('error');
    expect(lost.msg).toContain('[HIGH] PAYMENT_WEBHOOK_FAILING: Stripe webhooks failing');
    expect(lost.msg).toContain('3 attempts failed');
    expect(lost.fields.alert).toMatchObject({ type: 'PAYMENT_WEBHOOK_FAILING', resourceId: 'client_42', message: 'Customer +1********43 is waiting' });
    expect(logger.text()).not.toMatch(/5559876543|5551234567/);
    await alerts.close();
  });

  it('Twilio hanging: each attempt times out, the app keeps serving meanwhile, and the alert falls back', async () => {
    const { alerts, logger } = service({ retry: { initialDelayMs: 20, timeoutMs: 300 } });
    twilio.fail({ hang: true, times: 3 });
    const sending = alerts.sendCriticalAlert(alert);
    let settled = false;
    void sending.finally(() => (settled = true));
    const health = await fetch(appUrl);
    expect(await health.text()).toBe('ok');
    expect(settled).toBe(false); // the app answered while the alert was still being retried
    const result = await sending;
    expect(result).toMatchObject({ status: 'delivered', deliveredTo: ['slack', 'pagerduty'], failedSinks: ['sms'] });
    expect(twilio.requests).toHaveLength(3);
    expect(logger.lines.find((l) => l.msg?.startsWith('ALERT NOT DELIVERED via sms'))?.msg).toMatch(/timed out after 300 ms/);
    await alerts.close();
  });

  it('everything down: the alert is written to the log with a loud "ALERT NOT DELIVERED", queued as a pending page, the key is freed, and nothing throws', async () => {
    const { alerts, logger } = service({ retry: { initialDelayMs: 10, timeoutMs: 2000, breaker: false } });
    twilio.fail({ status: 500, times: 100 });
    slack.fail({ status: 500, times: 100 });
    pagerduty.fail({ status: 502, times: 100 });
    const result = await alerts.sendCriticalAlert(alert);

    expect(result).toMatchObject({ status: 'failed', deliveredTo: ['log'], fellBack: true });
    expect([...result.failedSinks].sort()).toEqual(['pagerduty', 'slack', 'sms']);
    expect(result.pendingUntil).toBeDefined();
    const lostLines = logger.lines.filter((l) => l.msg?.startsWith('ALERT NOT DELIVERED'));
    expect(lostLines.map((l) => l.msg!.split(':')[0])).toEqual(
      expect.arrayContaining(['ALERT NOT DELIVERED via sms', 'ALERT NOT DELIVERED via slack', 'ALERT NOT DELIVERED via pagerduty', 'ALERT NOT DELIVERED']),
    );
    // "ALERT LOST" is kept for a page that expires undelivered
    expect(logger.lines.some((l) => l.msg?.startsWith('ALERT LOST'))).toBe(false);
    expect(logger.lines.some((l) => l.level === 'error' && l.msg === 'ALERT [HIGH] PAYMENT_WEBHOOK_FAILING: Stripe webhooks failing (client_42)')).toBe(true);
    // The failed alert did not claim its key: once providers recover, the next occurrence goes out.
    twilio.clearFaults();
    slack.clearFaults();
    pagerduty.clearFaults();
    const retry = await alerts.sendCriticalAlert(alert);
    expect(retry).toMatchObject({ status: 'delivered', deliveredTo: ['sms', 'slack'] });
    expect(alerts.getAlertSystemStatus().lastFailure?.sink).toBeDefined();
    await alerts.close();
  });

  it('an open breaker sends the next alerts straight to the fallback, without calling the dead provider', async () => {
    const { alerts } = service({ retry: { initialDelayMs: 10, timeoutMs: 2000, breaker: { failureThreshold: 3, cooldownMs: 60_000 } } });
    twilio.fail({ status: 503, times: 3 });
    await alerts.sendCriticalAlert(alert);
    expect(alerts.getAlertSystemStatus().breakers.sms).toBe('open');
    const calls = twilio.requests.length;
    const next = await alerts.sendCriticalAlert({ ...alert, resourceId: 'client_43' });
    expect(next).toMatchObject({ status: 'delivered', failedSinks: ['sms'], deliveredTo: ['slack', 'pagerduty'] });
    expect(twilio.requests.length).toBe(calls);
    await alerts.close();
  });
});
