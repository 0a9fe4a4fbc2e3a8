import { describe, expect, it } from 'vitest';
import { createAlertService } from '../alert-service.js';
import { captureLogger } from '../../test/support/capture-logger.js';
import { recordingSink } from '../../test/support/recording-sink.js';
import { FailureTracker } from './failure-tracker.js';

function setup(options: Partial<ConstructorParameters<typeof FailureTracker>[0]> = {}) {
  let now = Date.parse('2026-03-01T00:00:00Z');
  const clock = { now: () => now };
  const sms = recordingSink('sms');
  const alerts = createAlertService({ sinks: [sms], clock, logger: captureLogger(), maintenanceIntervalMs: false, env: {} });
  const tracker = new FailureTracker({ alerts, clock, ...options });
  return { tracker, sms, advance: (ms: number) => (now += ms) };
}

describe('FailureTracker', () => {
  it('5 consecutive failures within 15 minutes raise one OPENAI_FAILURE alert; more failures do not re-alert', async () => {
    const { tracker, sms, advance } = setup();
    for (let i = 0; i < 4; i++) {
      expect(await tracker.recordFailure('openai', Object.assign(new Error('Service Unavailable'), { status: 503 }))).toBeUndefined();
      advance(60_000);
    }
    const result = await tracker.recordFailure('openai', Object.assign(new Error('Service Unavailable'), { status: 503 }));
    expect(result).toMatchObject({ status: 'delivered', type: 'OPENAI_FAILURE', key: 'openai' });
    for (let i = 0; i < 10; i++) expect(await tracker.recordFailure('openai')).toBeUndefined();
    expect(sms.received).toHaveLength(1);
    expect(sms.received[0]).toMatchObject({ type: 'OPENAI_FAILURE', severity: 'HIGH', title: 'openai: 5 consecutive failures in 15 min' });
    expect(sms.received[0]!.message).toContain('Last error: HTTP 503: Service Unavailable');
    expect(tracker.state('openai')).toMatchObject({ consecutiveFailures: 15, alerted: true });
  });

  it('failures spread wider than the window never add up', async () => {
    const { tracker, sms, advance } = setup();
    for (let i = 0; i < 20; i++) {
      await tracker.recordFailure('openai');
      advance(4 * 60_000); // 4 failures per 15 minutes at most
    }
    expect(sms.received).toHaveLength(0);
  });

  it('a success resets the streak and resolves the alert it raised', async () => {
    const { tracker, sms } = setup({ operations: { stripe: { threshold: 2, severity: 'MEDIUM', alertType: 'STRIPE_DOWN' } } });
    await tracker.recordFailure('stripe');
    await tracker.recordSuccess('stripe');
    await tracker.recordFailure('stripe');
    expect(sms.received).toHaveLength(0);
    const raised = await tracker.recordFailure('stripe');
    expect(raised).toMatchObject({ type: 'STRIPE_DOWN', severity: 'MEDIUM' });
    const resolved = await tracker.recordSuccess('stripe');
    expect(resolved?.status).toBe('resolved');
    expect(tracker.state('stripe')).toEqual({ consecutiveFailures: 0, alerted: false, since: undefined });
  });

  it('track() passes values and errors through while counting', async () => {
    const { tracker } = setup({ threshold: 2 });
    await expect(tracker.track('db', () => Promise.resolve(42))).resolves.toBe(42);
    await expect(
      tracker.track('db', () => {
        return Promise.reject(new Error('ECONNRESET'));
      }),
    ).rejects.toThrow('ECONNRESET');
    expect(tracker.state('db').consecutiveFailures).toBe(1);
    const failing = tracker.track('db', () => {
      throw new Error('again');
    });
    await expect(failing).rejects.toThrow('again');
    expect(tracker.state('db').alerted).toBe(true);
  });

  it('rejects bad settings', () => {
    const { tracker } = setup();
    expect(tracker).toBeDefined();
    expect(() => new FailureTracker({ alerts: {} as never })).toThrow(/AlertService/);
    expect(() => setup({ threshold: 0 })).toThrow(/threshold/);
    expect(() => setup({ operations: { x: { windowMs: -1 } } })).toThrow(/operations.x.windowMs/);
  });
});
