// Which breaker options a breaker created by safeCall gets, from the caller's side: the
// registry's own settings apply unless the safeCall caller set that field itself.
import { describe, expect, it } from 'vitest';
import { BreakerRegistry } from '@hardening/circuit-breaker';
import { silentLogger } from '../logger.js';
import { createSafeCall } from './create-safe-call.js';

const ok = () => Promise.resolve('ok');

describe('breaker options of a breaker safeCall creates', () => {
  it('takes the registry defaults and registry.configure(name) set before the first call', async () => {
    const registry = new BreakerRegistry({ defaults: { cooldownMs: 200, failureThreshold: 5 } });
    registry.configure('stripe', { failureThreshold: 7 });
    const safeCall = createSafeCall({ registry, logger: silentLogger });
    await safeCall('calendar', ok);
    await safeCall('stripe', ok);
    expect(registry.get('calendar').options).toMatchObject({ cooldownMs: 200, failureThreshold: 5 });
    expect(registry.get('stripe').options).toMatchObject({ cooldownMs: 200, failureThreshold: 7 });
  });

  it('a registry default for the threshold really decides when the breaker opens', async () => {
    const registry = new BreakerRegistry({ defaults: { failureThreshold: 1 } });
    const safeCall = createSafeCall({ registry, logger: silentLogger, defaults: { attempts: 1 } });
    await expect(safeCall('twilio_sms', () => Promise.reject(Object.assign(new Error('503'), { status: 503 })))).rejects.toThrow();
    expect(registry.get('twilio_sms').state).toBe('open');
  });

  it('what the safeCall caller set wins, field by field, over the registry', async () => {
    const registry = new BreakerRegistry({ defaults: { cooldownMs: 200 } });
    registry.configure('openai', { failureThreshold: 5 });
    const safeCall = createSafeCall({ registry, logger: silentLogger, defaults: { breaker: { cooldownMs: 1000 } } });
    await safeCall('openai', ok);
    expect(registry.get('openai').options).toMatchObject({ cooldownMs: 1000, failureThreshold: 5 });
  });

  it('with nothing set anywhere, opens after 3 consecutive failures for 30 s', async () => {
    const registry = new BreakerRegistry();
    const safeCall = createSafeCall({ registry, logger: silentLogger });
    await safeCall('slack', ok);
    expect(registry.get('slack').options).toMatchObject({ cooldownMs: 30_000, failureThreshold: 3 });
  });
});
