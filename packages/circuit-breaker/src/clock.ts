/**
 * A source of the current time in epoch milliseconds. Injected so tests can drive time.
 *
 * @example
 * ```ts
 * import type { Clock } from '@hardening/circuit-breaker';
 * let t = 0;
 * const fake: Clock = { now: () => t };
 * t += 1000;
 * ```
 */
export interface Clock {
  /** Current time, epoch milliseconds. */
  now(): number;
}

/** The wall clock, `Date.now`. */
export const systemClock: Clock = { now: () => Date.now() };
