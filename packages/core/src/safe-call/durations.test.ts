// Durations: exact when someone needs them, and a slow-call rule configured after a
// breaker's first use gets real durations (issue 9, defect 4, core's side).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BreakerRegistry } from '@hardening/circuit-breaker';
import { silentLogger } from '../logger.js';
import { captureLogger } from '../../test/capture-logger.js';
import { createSafeCall } from './create-safe-call.js';

const clock = { now: () => Date.now() };
const after = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms, 'ok'));

afterEach(() => {
  vi.useRealTimers();
});

describe('durations', () => {
  it('a slow-call rule configured after the breaker was first used opens it on slow successes', async () => {
    vi.useFakeTimers();
    const registry = new BreakerRegistry();
    const safeCall = createSafeCall({ registry, logger: silentLogger, clock });
    await safeCall('calendar', () => Promise.resolve('first')); // the breaker exists, without a slow-call rule
    registry.configure('calendar', { slowCallRateThreshold: 50, slowCallDurationMs: 100, minimumCalls: 4, slidingWindow: { type: 'count', size: 4 } });
    for (let i = 0; i < 4; i++) {
      const call = safeCall('calendar', () => after(150));
      await vi.advanceTimersByTimeAsync(150);
      await call;
    }
    expect(registry.get('calendar').state).toBe('open');
  });

  it('without hooks or a slow-call rule, the slow-call warning still fires for slow calls only', async () => {
    vi.useFakeTimers();
    const logger = captureLogger();
    const safeCall = createSafeCall({ registry: new BreakerRegistry(), logger, clock, defaults: { slowCallThresholdMs: 60 } });
    const slow = safeCall('mix', () => after(120));
    const fast = safeCall('mix', () => after(5));
    await vi.advanceTimersByTimeAsync(120);
    await Promise.all([slow, fast]);
    const warnings = logger.lines.filter((l) => l.msg === 'slow call to "mix"');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.fields.durationMs).toBe(120);
  });
});
