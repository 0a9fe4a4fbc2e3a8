/**
 * A source of the current time in epoch milliseconds, injected so tests can drive time
 * (vitest fake timers move `Date.now`, so the default works with them too).
 *
 * @example
 * ```ts
 * import type { Clock } from '@hardening/alerting';
 * let now = Date.parse('2026-01-01T00:00:00Z');
 * const clock: Clock = { now: () => now };
 * now += 60_000;
 * ```
 */
export interface Clock {
  /** Current time, epoch milliseconds. */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };
