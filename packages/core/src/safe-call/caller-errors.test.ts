// Defect 3 of issue 9, from the caller's side: errors that blame the request are neither
// retried nor counted by the breaker, by default, in plain safeCall.
import { describe, expect, it, vi } from 'vitest';
import { BreakerRegistry, isCircuitOpenError } from '@hardening/circuit-breaker';
import { silentLogger } from '../logger.js';
import { createSafeCall } from './create-safe-call.js';

const invalidNumber = () => Object.assign(new Error("The 'To' number is not a valid phone number."), { status: 400, code: 21211 });

describe('caller errors do not open the breaker', () => {
  it('three {status: 400, code: 21211} errors leave twilio_sms closed and the next SMS runs', async () => {
    const registry = new BreakerRegistry();
    const safeCall = createSafeCall({ registry, logger: silentLogger });
    const send = vi.fn(() => {
      return Promise.reject(invalidNumber());
    });
    for (let i = 0; i < 3; i++) await expect(safeCall('twilio_sms', send)).rejects.toMatchObject({ status: 400, code: 21211 });
    expect(send).toHaveBeenCalledTimes(3); // one attempt each: not retried
    expect(registry.get('twilio_sms').state).toBe('closed');
    await expect(safeCall('twilio_sms', () => Promise.resolve('SM123'))).resolves.toBe('SM123');
  });

  it('while three outages in a row do open it (the control)', async () => {
    const registry = new BreakerRegistry();
    const safeCall = createSafeCall({ registry, logger: silentLogger });
    const down = () => {
      return Promise.reject(Object.assign(new Error('Service Unavailable'), { status: 503 }));
    };
    for (let i = 0; i < 3; i++) await safeCall('twilio_sms', down, { attempts: 1 }).catch(() => {});
    expect(registry.get('twilio_sms').state).toBe('open');
    await expect(safeCall('twilio_sms', () => Promise.resolve('SM124'))).rejects.toSatisfy(isCircuitOpenError);
  });

  it('a custom classify decides both: what it calls caller is neither retried nor counted', async () => {
    const registry = new BreakerRegistry();
    const safeCall = createSafeCall({ registry, logger: silentLogger, defaults: { backoff: { initialDelayMs: 1 } } });
    const quotaError = () => Object.assign(new Error('daily quota reached'), { quota: true });
    const classify = (error: unknown) => ((error as { quota?: boolean }).quota ? 'caller' : 'transient');
    const fn = vi.fn(() => {
      return Promise.reject(quotaError());
    });
    for (let i = 0; i < 4; i++) await safeCall('sms_quota', fn, { classify }).catch(() => {});
    expect(fn).toHaveBeenCalledTimes(4);
    expect(registry.get('sms_quota').state).toBe('closed');
  });

  it('a classifier that throws counts the error as a failure and does not retry it', async () => {
    const registry = new BreakerRegistry();
    const safeCall = createSafeCall({ registry, logger: silentLogger });
    const fn = vi.fn(() => {
      return Promise.reject(new Error('odd'));
    });
    const classify = () => {
      throw new Error('classifier bug');
    };
    for (let i = 0; i < 3; i++) await expect(safeCall('odd', fn, { classify })).rejects.toThrow('odd');
    expect(fn).toHaveBeenCalledTimes(3);
    expect(registry.get('odd').state).toBe('open');
  });
});
