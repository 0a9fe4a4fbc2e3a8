import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeHttpServer, startFakePagerDuty, type FakeHttpServer, type FakePagerDuty } from '@hardening/test-support';
import { createAlertService } from '../alert-service.js';
import { captureLogger } from '../../test/support/capture-logger.js';
import { createPagerDutySink } from './pagerduty-sink.js';
import { createWebhookSink } from './webhook-sink.js';

const fast = { initialDelayMs: 10, timeoutMs: 3000 };
const routingKey = 'R0UT1NGKEY0123456789abcdefABCDEF';

describe('webhook sink and PagerDuty preset (fetch against local servers)', () => {
  let pagerduty: FakePagerDuty;
  let receiver: FakeHttpServer;
  beforeAll(async () => {
    pagerduty = await startFakePagerDuty({ routingKeys: [routingKey] });
    receiver = await startFakeHttpServer({ route: (r) => (r.path === '/hooks/alerts' ? { status: 204 } : undefined) });
  });
  afterAll(async () => {
    await pagerduty.close();
    await receiver.close();
  });

  it('PagerDuty: triggers under the alert’s dedup key, and the resolve notice resolves the same incident', async () => {
    const sink = createPagerDutySink({ routingKey, url: pagerduty.eventsUrl, source: 'sms-assistant-test' });
    const alerts = createAlertService({ sinks: [sink], routes: { HIGH: ['pagerduty'] }, logger: captureLogger(), retry: fast, maintenanceIntervalMs: false });
    const alert = {
      type: 'TWILIO_DOWN',
      severity: 'HIGH' as const,
      resourceId: 'pool-us',
      title: 'Twilio API failing',
      message: 'All sends fail with 503',
      links: [{ text: 'Status', url: 'https://status.twilio.com' }],
    };

    expect((await alerts.sendCriticalAlert(alert)).status).toBe('delivered');
    expect((await alerts.sendCriticalAlert(alert)).status).toBe('suppressed');
    expect(pagerduty.events).toHaveLength(1);
    const trigger = pagerduty.events[0]!;
    expect(trigger).toMatchObject({ action: 'trigger', dedupKey: 'TWILIO_DOWN/pool-us', routingKey });
    expect(trigger.payload).toMatchObject({
      summary: '[HIGH] TWILIO_DOWN: Twilio API failing',
      source: 'sms-assistant-test',
      severity: 'critical',
      class: 'TWILIO_DOWN',
      component: 'pool-us',
    });
    expect(trigger.body.links).toEqual([{ href: 'https://status.twilio.com', text: 'Status' }]);
    expect(pagerduty.openIncidents()).toEqual(['TWILIO_DOWN/pool-us']);

    const resolved = await alerts.resolveAlert({ type: 'TWILIO_DOWN', resourceId: 'pool-us' });
    expect(resolved).toMatchObject({ status: 'resolved', deliveredTo: ['pagerduty'] });
    expect(pagerduty.events[1]).toMatchObject({ action: 'resolve', dedupKey: 'TWILIO_DOWN/pool-us' });
    expect(pagerduty.openIncidents()).toEqual([]);
    expect((await alerts.resolveAlert({ type: 'TWILIO_DOWN', resourceId: 'pool-us' })).status).toBe('not_active');
    // resolved: the next occurrence alerts again at once
    expect((await alerts.sendCriticalAlert(alert)).status).toBe('delivered');
    await alerts.close();
  });

  it('PagerDuty: a 400 (invalid event) fails at once and falls back; a bad routing key is refused at configuration', async () => {
    const logger = captureLogger();
    const sink = createPagerDutySink({ routingKey: 'x'.repeat(32), url: pagerduty.eventsUrl });
    const alerts = createAlertService({ sinks: [sink], routes: { HIGH: ['pagerduty'] }, logger, retry: fast, maintenanceIntervalMs: false });
    const before = pagerduty.requests.length;
    const result = await alerts.sendCriticalAlert({ type: 'X', severity: 'HIGH', title: 'x', message: '' });
    expect(result).toMatchObject({ status: 'failed', failedSinks: ['pagerduty'] });
    expect(pagerduty.requests.length - before).toBe(1);
    expect(logger.text()).toContain('answered HTTP 400');
    expect(() => createPagerDutySink({ routingKey: 'short' })).toThrow(/32-character/);
    await alerts.close();
  });

  it('generic webhook: POSTs the scrubbed alert as JSON with the given headers; retries a 503 with Retry-After', async () => {
    const sink = createWebhookSink({ url: `${receiver.url}/hooks/alerts?token=s3cret`, headers: { authorization: 'Bearer abcdefghijklmnop' } });
    const logger = captureLogger();
    const alerts = createAlertService({ sinks: [sink], routes: { MEDIUM: ['webhook'] }, logger, retry: fast, maintenanceIntervalMs: false });
    receiver.fail({ status: 503, headers: { 'Retry-After': '1' } });
    const result = await alerts.sendCriticalAlert({
      type: 'QUEUE_BACKLOG',
      severity: 'MEDIUM',
      title: 'Queue backlog',
      message: 'Call +15551234567 back',
      context: { depth: 900 },
    });
    expect(result.status).toBe('delivered');
    const [first, second] = receiver.requests;
    expect([first!.status, second!.status]).toEqual([503, 204]);
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
    expect(second!.headers.authorization).toBe('Bearer abcdefghijklmnop');
    expect(second!.headers['content-type']).toBe('application/json');
    expect(second!.body).toMatchObject({
      type: 'QUEUE_BACKLOG',
      severity: 'MEDIUM',
      title: 'Queue backlog',
      message: 'Call +1********67 back',
      context: { depth: 900 },
    });
    expect(logger.text()).not.toContain('s3cret');
    expect(logger.text()).not.toContain('abcdefghijklmnop');
    await alerts.close();
  });

  it('rejects bad options', () => {
    expect(() => createWebhookSink({ url: 'ftp://x' })).toThrow(/absolute http\(s\) URL/);
    expect(() => createWebhookSink({ url: 'https://x.example', method: 'GET' as never })).toThrow(/POST or PUT/);
  });
});
