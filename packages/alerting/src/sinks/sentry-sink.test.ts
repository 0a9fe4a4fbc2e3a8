import * as Sentry from '@sentry/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSentry, type FakeSentry } from '@hardening/test-support';
import { createAlertService } from '../alert-service.js';
import { initSentryFromEnv } from '../reporting/sentry-init.js';
import { reportError } from '../reporting/report-error.js';
import { captureLogger } from '../../test/support/capture-logger.js';
import { createSentrySink } from './sentry-sink.js';

const fast = { initialDelayMs: 10, timeoutMs: 4000 };

describe('Sentry sink and Sentry set-up (real @sentry/node against a fake envelope endpoint)', () => {
  let sentry: FakeSentry;
  beforeAll(async () => {
    sentry = await startFakeSentry();
    const result = initSentryFromEnv({
      sentry: Sentry,
      env: { SENTRY_DSN: sentry.dsn, SENTRY_ENVIRONMENT: 'test', SENTRY_RELEASE: 'app@1.2.3' },
      options: { defaultIntegrations: false },
    });
    expect(result).toEqual({ enabled: true });
  });
  afterAll(async () => {
    await Sentry.close(2000);
    await sentry.close();
  });
  afterEach(() => {
    sentry.clearRequests();
    sentry.envelopes.length = 0;
    sentry.clearFaults();
  });

  it('captures the alert as an event, scrubbed of phone numbers, emails and tokens, confirmed by Sentry’s answer', async () => {
    const alerts = createAlertService({
      sinks: [createSentrySink({ sentry: Sentry })],
      routes: { HIGH: ['sentry'] },
      logger: captureLogger(),
      retry: fast,
      maintenanceIntervalMs: false,
    });
    const result = await alerts.sendCriticalAlert({
      type: 'OPENAI_FAILURE',
      severity: 'HIGH',
      resourceId: 'client_9',
      title: 'OpenAI failing for +15551234567',
      message: 'Key sk-abcdefghijklmnopqrstuvwx rejected; contact ops@example.com',
      context: { caller: '+15559876543', apiKey: 'sk-abcdefghijklmnopqrstuvwx', attempts: 5 },
    });
    expect(result).toMatchObject({ status: 'delivered', deliveredTo: ['sentry'] });

    expect(sentry.events()).toHaveLength(1);
    const event = sentry.events()[0]!;
    expect(event.message).toBe('[HIGH] OPENAI_FAILURE: OpenAI failing for +1********67');
    expect(event.level).toBe('error');
    expect(event.environment).toBe('test');
    expect(event.release).toBe('app@1.2.3');
    expect(event.tags).toMatchObject({ 'alert.type': 'OPENAI_FAILURE', 'alert.severity': 'HIGH', 'alert.resource': 'client_9' });
    expect(event.fingerprint).toEqual(['hardening-alert', 'OPENAI_FAILURE', 'client_9']);
    const raw = sentry.requests.map((r) => r.rawBody.toString('utf8')).join('\n');
    expect(raw).not.toMatch(/5551234567|5559876543|sk-abcdefghij|ops@example\.com/);
    const context = (event.extra as { alert: { context: Record<string, unknown> } }).alert.context;
    // Masked by the sink, then once more by beforeSend (a masked number masks to '***').
    expect(context).toMatchObject({ apiKey: '[redacted]', attempts: 5 });
    expect(context.caller).toMatch(/^(\+1\*{8}43|\*{3})$/);
    await alerts.close();
  });

  it('retries a 500 with the same event id (Sentry keeps one event per id), then delivers', async () => {
    const alerts = createAlertService({
      sinks: [createSentrySink({ sentry: Sentry })],
      routes: { HIGH: ['sentry'] },
      logger: captureLogger(),
      retry: fast,
      maintenanceIntervalMs: false,
    });
    sentry.fail({ status: 500 });
    const result = await alerts.sendCriticalAlert({ type: 'DB_DOWN', severity: 'HIGH', title: 'Database unreachable', message: 'ECONNREFUSED' });
    expect(result.status).toBe('delivered');
    expect(sentry.requests.map((r) => r.status)).toEqual([500, 200]);
    const ids = sentry.requests.map((r) => JSON.parse(r.rawBody.toString('utf8').split('\n')[0]!).event_id);
    expect(ids[0]).toBe(ids[1]);
    await alerts.close();
  });

  it('fails over when Sentry keeps answering 503', async () => {
    const logger = captureLogger();
    const alerts = createAlertService({
      sinks: [createSentrySink({ sentry: Sentry })],
      routes: { HIGH: ['sentry'] },
      logger,
      retry: { ...fast, breaker: false },
      maintenanceIntervalMs: false,
    });
    sentry.fail({ status: 503, times: 3 });
    const result = await alerts.sendCriticalAlert({
      type: 'DB_DOWN',
      severity: 'HIGH',
      resourceId: 'db2',
      title: 'Database unreachable',
      message: 'ECONNREFUSED',
    });
    expect(result).toMatchObject({ status: 'failed', failedSinks: ['sentry'], deliveredTo: ['log'] });
    expect(sentry.requests.map((r) => r.status)).toEqual([503, 503, 503]);
    expect(logger.lines.some((l) => l.level === 'error' && l.msg?.startsWith('ALERT NOT DELIVERED via sentry'))).toBe(true);
    await alerts.close();
  });

  it('scrubs errors reported with reportError through the beforeSend that initSentryFromEnv installs', async () => {
    const logger = captureLogger();
    const id = reportError(
      new Error('SMS to +15551234567 failed with token xoxb-1234567890-abcdef'),
      { customerEmail: 'jane@example.com', step: 'reply' },
      { sentry: Sentry, logger, tags: { component: 'sms' } },
    );
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    await Sentry.flush(3000);
    const event = sentry.events().find((e) => e.event_id === id)!;
    const exception = (event.exception as { values: Array<{ value: string }> }).values[0]!;
    expect(exception.value).toBe('SMS to +1********67 failed with token [redacted]');
    expect(event.extra).toEqual({ customerEmail: '[email]', step: 'reply' });
    expect(event.tags).toMatchObject({ component: 'sms' });
    expect(logger.lines[0]!.msg).toBe('error reported: SMS to +1********67 failed with token [redacted]');
    expect(sentry.requests.map((r) => r.rawBody.toString('utf8')).join('')).not.toMatch(/5551234567|jane@example/);
  });

  it('initSentryFromEnv: nothing without a DSN, a clear error for a malformed one', () => {
    expect(initSentryFromEnv({ sentry: { init: () => undefined }, env: {} })).toEqual({ enabled: false, reason: 'SENTRY_DSN is not set' });
    expect(() => initSentryFromEnv({ sentry: { init: () => undefined }, env: { SENTRY_DSN: 'not-a-dsn' } })).toThrow(/SENTRY_DSN/);
    expect(() => initSentryFromEnv({ sentry: {} as never })).toThrow(TypeError);
  });
});
