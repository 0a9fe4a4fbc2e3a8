/**
 * The timers a component schedules with (timeouts, drains, leases, rounds), injected so
 * tests and simulations can drive time instead of sleeping. One shape for every @hardening
 * package: the idempotency guard, health's monitor, shutdown and recovery, and alerting's
 * runtime monitor all take it as their `timers` option.
 *
 * @example
 * ```ts
 * import type { Timers } from '@hardening/core';
 * const timers: Timers = {
 *   setTimeout: (fn, ms) => setTimeout(fn, ms),
 *   clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
 * };
 * const handle = timers.setTimeout(() => console.log('later'), 1000);
 * timers.clearTimeout(handle);
 * ```
 */
export interface Timers {
  /** Calls `fn` once after `ms` milliseconds; returns a handle for {@link Timers.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer made by {@link Timers.setTimeout}; a handle of `undefined` or of a timer that already ran is ignored. */
  clearTimeout(handle: unknown): void;
}

/**
 * The global timers. They are looked up when a timer is made, not when a component is
 * created, so `vi.useFakeTimers()` installed later also drives a component built with them.
 *
 * @example
 * ```ts
 * import { systemTimers } from '@hardening/core';
 * const handle = systemTimers.setTimeout(() => console.log('one second later'), 1000);
 * systemTimers.clearTimeout(handle);
 * ```
 */
export const systemTimers: Timers = Object.freeze({
  setTimeout: (fn: () => void, ms: number): unknown => setTimeout(fn, ms),
  clearTimeout: (handle: unknown): void => clearTimeout(handle as ReturnType<typeof setTimeout>),
});

/**
 * Checks an injected `timers` option, so a bad one fails when the component is built rather
 * than at the first timeout.
 *
 * @param value - The option as given.
 * @returns The timers to use ({@link systemTimers} when `undefined`).
 * @throws TypeError when it is not an object with both functions.
 *
 * @example
 * ```ts
 * import { resolveTimers, type Timers } from '@hardening/core';
 * function schedule(options: { readonly timers?: Timers } = {}) {
 *   const timers = resolveTimers(options.timers); // systemTimers when omitted
 *   return timers.setTimeout(() => console.log('tick'), 10);
 * }
 * ```
 */
export function resolveTimers(value: Timers | undefined): Timers {
  if (value === undefined) return systemTimers;
  if (value === null || typeof value !== 'object' || typeof value.setTimeout !== 'function' || typeof value.clearTimeout !== 'function') {
    throw new TypeError('Expected `timers` to be an object with setTimeout and clearTimeout functions.');
  }
  return value;
}
