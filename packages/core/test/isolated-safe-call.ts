import { BreakerRegistry } from '@hardening/circuit-breaker';
import { silentLogger } from '../src/logger.js';
import type { CreateSafeCallOptions, SafeCall } from '../src/safe-call/create-safe-call.js';
import { createSafeCall } from '../src/safe-call/create-safe-call.js';

/**
 * A safeCall for one test: its own breaker registry, a silent logger, and `Date.now` as its
 * clock, so `vi.useFakeTimers()` drives deadlines, waits and durations together.
 */
export function isolatedSafeCall(options: CreateSafeCallOptions = {}): SafeCall {
  return createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger, clock: { now: () => Date.now() }, ...options });
}
