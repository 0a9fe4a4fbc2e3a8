import type { BreakerRegistry } from '@hardening/circuit-breaker';
import { getDefaultRegistry } from '@hardening/circuit-breaker';
import type { Logger } from '../logger.js';
import { consoleLogger } from '../logger.js';
import type { MonotonicClock } from './deadlines.js';
import { performanceClock } from './deadlines.js';
import { Engine } from './engine.js';
import type { SafeCallHooks, SafeCallOptions } from './options.js';
import { resolvePolicy, rootPolicy } from './policy.js';
import type { Work } from './timed-attempt.js';

/**
 * Options for {@link createSafeCall}.
 *
 * @example
 * ```ts
 * import { BreakerRegistry } from '@hardening/circuit-breaker';
 * import { createSafeCall, consoleLogger } from '@hardening/core';
 * const safeCall = createSafeCall({ registry: new BreakerRegistry(), defaults: { timeoutMs: 10_000 }, logger: consoleLogger() });
 * ```
 */
export interface CreateSafeCallOptions {
  /**
   * Where the breakers live.
   * @default getDefaultRegistry() (process-wide, shared across ESM and CJS copies)
   */
  readonly registry?: BreakerRegistry | undefined;
  /**
   * Options every call starts from (per-name and per-call options override them).
   * @default the production defaults listed in {@link SafeCallOptions}
   */
  readonly defaults?: SafeCallOptions | undefined;
  /**
   * Where give-ups, slow calls and breaker changes (warn) and retries (debug) are logged.
   * A pino logger fits.
   * @default JSON lines on the console
   */
  readonly logger?: Logger | undefined;
  /** Hooks for every call of this instance. */
  readonly hooks?: SafeCallHooks | undefined;
  /**
   * Uniform random numbers in [0, 1), for jitter.
   * @default Math.random
   */
  readonly random?: (() => number) | undefined;
  /**
   * Monotonic milliseconds, for attempt deadlines, the overall deadline, durations and the
   * retry budget. Timers are the global `setTimeout`, so tests drive both with fake timers
   * (`vi.useFakeTimers()` and `clock: { now: () => Date.now() }`).
   * @default performance
   */
  readonly clock?: { now(): number } | undefined;
}

/**
 * A configured `safeCall` function. Call it like {@link safeCall}; `configure` sets
 * options for one operation name.
 */
export interface SafeCall {
  /**
   * Runs `fn(signal)` under a per-attempt timeout, retries of transient failures, the
   * circuit breaker registered under `name`, and (when configured) a bulkhead and a retry
   * budget.
   *
   * Every attempt gets a signal of its own, whatever `fn`'s arity (rest and default
   * parameters included). It aborts only when that attempt times out (reason: a
   * `TimeoutError`), the overall `deadlineMs` passes, or the caller's `signal` aborts
   * (reason: the caller's reason). It never aborts because the call ended, so after a
   * successful return it stays un-aborted for good (a `fetch` body can still be read),
   * and nothing another call does can abort it. An arrow function declaring no parameter
   * cannot see a signal, so none is created for it.
   *
   * @param name - Operation name, e.g. `twilio_sms`: one breaker, bulkhead and budget per name.
   * @param fn - The work.
   * @param options - Per-call options.
   * @returns What `fn` returns, or the fallback's value.
   * @throws RetriesExhaustedError, CircuitOpenError, BulkheadFullError, AbortedError, or
   *   `fn`'s own non-retryable error, as a rejection; a TypeError for a bad argument.
   */
  <T>(name: string, fn: Work<T>, options?: SafeCallOptions<T>): Promise<T>;
  /**
   * Sets options for one operation name; they sit between the instance defaults and
   * per-call options. Resets the name's bulkhead and budget, and replaces its breaker when
   * `breaker` is given.
   *
   * @param name - Operation name.
   * @param options - Options for that name.
   * @throws TypeError for a bad name or option.
   */
  configure(name: string, options: SafeCallOptions): void;
  /** The breaker registry this instance uses (for health checks and admin endpoints). */
  readonly registry: BreakerRegistry;
}

/**
 * Creates a `safeCall` with its own defaults, logger, hooks and (optionally) registry.
 *
 * @param options - See {@link CreateSafeCallOptions}.
 * @returns A {@link SafeCall}.
 * @throws TypeError when a default is out of range.
 * @example
 * ```ts
 * import { createSafeCall } from '@hardening/core';
 *
 * const safeCall = createSafeCall({ defaults: { attempts: 3, timeoutMs: 15_000 } });
 * safeCall.configure('openai_chat', { timeoutMs: 25_000, bulkhead: { maxConcurrent: 8, maxQueue: 32 } });
 * const status = await safeCall('status_page', async (signal) => (await fetch('http://127.0.0.1:9/', { signal })).status).catch(() => 0);
 * ```
 */
export function createSafeCall(options: CreateSafeCallOptions = {}): SafeCall {
  const engine = new Engine(
    options.registry ?? getDefaultRegistry(),
    resolvePolicy(rootPolicy, options.defaults ?? {}),
    options.logger ?? consoleLogger({ component: 'safeCall' }),
    options.hooks ?? {},
    options.random ?? Math.random,
    (options.clock as MonotonicClock | undefined) ?? performanceClock,
  );
  const safeCall = function safeCall<T>(name: string, fn: Work<T>, call?: SafeCallOptions<T>): Promise<T> {
    if (typeof name !== 'string' || name.length === 0) {
      return Promise.reject(new TypeError(`Expected \`name\` to be a non-empty string, got ${JSON.stringify(name)}.`));
    }
    if (typeof fn !== 'function') {
      return Promise.reject(new TypeError(`Expected \`fn\` to be a function, got ${typeof fn}.`));
    }
    return engine.call(name, fn, call);
  } as SafeCall;
  (safeCall as { configure: SafeCall['configure'] }).configure = (name, named) => {
    if (typeof name !== 'string' || name.length === 0) {
      throw new TypeError(`Expected \`name\` to be a non-empty string, got ${JSON.stringify(name)}.`);
    }
    engine.configure(name, named);
  };
  Object.defineProperty(safeCall, 'registry', { value: engine.registry, enumerable: true });
  return safeCall;
}
