/**
 * The timers the guard schedules with (lease signal, record budget, waits and retries),
 * injected so tests and simulations can drive time instead of sleeping.
 *
 * The default calls the global `setTimeout` / `clearTimeout` when a timer is made, not when
 * the guard is created, so `vi.useFakeTimers()` also drives a guard created with the default.
 *
 * @example
 * ```ts
 * import { createIdempotencyGuard, createMemoryStore, type Timers } from '@hardening/idempotency';
 * const timers: Timers = {
 *   setTimeout: (fn, ms) => setTimeout(fn, ms),
 *   clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
 * };
 * const guard = createIdempotencyGuard({ store: createMemoryStore(), timers });
 * ```
 */
export interface Timers {
  /** Calls `fn` once after `ms` milliseconds; returns a handle for {@link Timers.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer made by {@link Timers.setTimeout}; a handle of `undefined` or of a timer that already ran is ignored. */
  clearTimeout(handle: unknown): void;
}

/** The global timers, looked up on every call (so fake timers installed later still apply). */
export const systemTimers: Timers = Object.freeze({
  setTimeout: (fn: () => void, ms: number): unknown => setTimeout(fn, ms),
  clearTimeout: (handle: unknown): void => clearTimeout(handle as ReturnType<typeof setTimeout>),
});
