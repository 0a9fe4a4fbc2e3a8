import { describe, expect, it } from 'vitest';
import { BreakerRegistry } from '@hardening/circuit-breaker';
import { silentLogger } from '../logger.js';
import { backoffDefaults, resolveBackoff } from './backoff.js';
import { createSafeCall } from './create-safe-call.js';

describe('backoff options', () => {
  it('an explicit undefined keeps the default, as an omitted field does', () => {
    const fromConfig: { retryDelayMs?: number } = {};
    expect(resolveBackoff({ initialDelayMs: fromConfig.retryDelayMs, factor: 3 })).toEqual({ ...backoffDefaults, factor: 3 });
    expect(resolveBackoff({ jitter: undefined, maxDelayMs: undefined }, { ...backoffDefaults, maxDelayMs: 5000 })).toEqual({
      ...backoffDefaults,
      maxDelayMs: 5000,
    });
  });

  it('safeCall takes a backoff whose fields are undefined (it threw a TypeError before)', async () => {
    const safeCall = createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger });
    await expect(safeCall('backoff_undefined', () => Promise.resolve('ok'), { backoff: { initialDelayMs: undefined, factor: undefined } })).resolves.toBe('ok');
  });

  it('still refuses a value that is set and wrong', () => {
    expect(() => resolveBackoff({ initialDelayMs: -1 })).toThrow('`backoff.initialDelayMs`');
    expect(() => resolveBackoff({ factor: Number.NaN })).toThrow('`backoff.factor`');
  });
});
