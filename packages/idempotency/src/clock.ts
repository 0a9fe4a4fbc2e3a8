/**
 * A source of the current time in epoch milliseconds, injected so tests can drive time.
 *
 * @example
 * ```ts
 * import { createMemoryStore, type Clock } from '@hardening/idempotency';
 * let now = 0;
 * const clock: Clock = { now: () => now };
 * const store = createMemoryStore({ clock });
 * now += 60_000;
 * ```
 */
export interface Clock {
  /** Current time, epoch milliseconds. */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };
