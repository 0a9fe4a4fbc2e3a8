/**
 * The timers health schedules with (per-check timeouts, shutdown drain and deadlines,
 * recovery timeouts), injected so tests and simulations can drive time instead of sleeping.
 *
 * The default calls the global `setTimeout` / `clearTimeout` when a timer is made, not when
 * the monitor is created, so `vi.useFakeTimers()` also drives the defaults.
 *
 * @example
 * ```ts
 * import { HealthMonitor, type Timers } from '@hardening/health';
 * const timers: Timers = {
 *   setTimeout: (fn, ms) => setTimeout(fn, ms),
 *   clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
 * };
 * const monitor = new HealthMonitor({ timers });
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

/**
 * Checks an injected `timers` option.
 *
 * @param value - The option as given.
 * @returns The timers to use ({@link systemTimers} when `undefined`).
 * @throws TypeError when it is not an object with both functions.
 */
export function resolveTimers(value: Timers | undefined): Timers {
  if (value === undefined) return systemTimers;
  if (value === null || typeof value !== 'object' || typeof value.setTimeout !== 'function' || typeof value.clearTimeout !== 'function') {
    throw new TypeError('Expected `timers` to be an object with setTimeout and clearTimeout functions.');
  }
  return value;
}
