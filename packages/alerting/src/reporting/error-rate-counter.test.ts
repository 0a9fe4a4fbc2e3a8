import { describe, expect, it } from 'vitest';
import { createAlertService } from '../alert-service.js';
import { captureLogger } from '../../test/support/capture-logger.js';
import { recordingSink } from '../../test/support/recording-sink.js';
import { ErrorRateCounter } from './error-rate-counter.js';

describe('ErrorRateCounter', () => {
  it('counts errors per category over a sliding window and alerts once when the threshold is reached', async () => {
    let now = Date.parse('2026-03-01T00:00:00Z');
    const clock = { now: () => now };
    const sms = recordingSink('sms');
    const alerts = createAlertService({ sinks: [sms], clock, logger: captureLogger(), maintenanceIntervalMs: false, env: {} });
    const counter = new ErrorRateCounter({ alerts, threshold: 3, windowMs: 60_000, clock });

    expect(await counter.record('webhook')).toEqual({ count: 1 });
    now += 30_000;
    expect((await counter.record('webhook')).count).toBe(2);
    expect((await counter.record('http')).count).toBe(1);
    now += 29_000;
    const third = await counter.record('webhook');
    expect(third.count).toBe(3);
    expect(third.alert).toMatchObject({ status: 'delivered', type: 'ERROR_RATE', key: 'webhook' });
    expect(sms.received[0]).toMatchObject({ title: '3 webhook errors in 1 min', resourceId: 'webhook' });
    expect((await counter.record('webhook')).alert).toBeUndefined(); // once per window
    now += 31_000; // the first two fell out
    expect(counter.count('webhook')).toBe(2);
    expect(counter.count('http')).toBe(0);
  });

  it('only counts without an alert service; rejects bad settings', async () => {
    const counter = new ErrorRateCounter({ threshold: 1 });
    expect(await counter.record()).toEqual({ count: 1 });
    expect(() => new ErrorRateCounter({ threshold: 0 })).toThrow(/threshold/);
    expect(() => new ErrorRateCounter({ windowMs: 0 })).toThrow(/windowMs/);
  });
});
