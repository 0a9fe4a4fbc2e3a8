import type { CircuitBreakerOptions, StateChange } from '@hardening/circuit-breaker';
import type { FailureKind } from '../classifiers/classify.js';

/**
 * How long to wait between attempts: `initialDelayMs * factor^(retry - 1)`, capped at
 * `maxDelayMs`, with optional jitter. A `Retry-After` the error carries (HTTP 429/503)
 * replaces a shorter computed wait.
 *
 * @example
 * ```ts
 * import type { BackoffOptions } from '@hardening/core';
 * const aws: BackoffOptions = { initialDelayMs: 100, factor: 2, maxDelayMs: 20_000, jitter: 'full' };
 * ```
 */
export interface BackoffOptions {
  /**
   * Wait before the first retry.
   * @default 1000
   */
  readonly initialDelayMs?: number | undefined;
  /**
   * Multiplier per retry.
   * @default 2
   */
  readonly factor?: number | undefined;
  /**
   * Longest wait between attempts, `Retry-After` included: a provider asking for a longer
   * wait ends the retries (`RetriesExhaustedError` with reason `retry-after`).
   * @default 30_000
   */
  readonly maxDelayMs?: number | undefined;
  /**
   * `none`: the exact exponential delay. `full`: uniform in [0, delay] (AWS "full jitter").
   * `equal`: delay/2 plus uniform in [0, delay/2]. `decorrelated`: AWS "decorrelated
   * jitter", uniform in [initialDelayMs, 3 x the previous wait], capped at `maxDelayMs`
   * (`factor` is not used); it spreads retries of many callers best.
   * @default 'none'
   */
  readonly jitter?: 'none' | 'full' | 'equal' | 'decorrelated' | undefined;
}

/**
 * Limits concurrent calls of one operation, with a bounded FIFO queue.
 *
 * @example
 * ```ts
 * import type { BulkheadOptions } from '@hardening/core';
 * const openai: BulkheadOptions = { maxConcurrent: 8, maxQueue: 32, queueTimeoutMs: 5000 };
 * ```
 */
export interface BulkheadOptions {
  /** Calls that may run at once. */
  readonly maxConcurrent: number;
  /**
   * Calls that may wait for a slot; more are refused with `BulkheadFullError`.
   * @default 0
   */
  readonly maxQueue?: number | undefined;
  /**
   * Longest wait in the queue before `BulkheadFullError`.
   * @default Infinity (bounded by the caller's signal)
   */
  readonly queueTimeoutMs?: number | undefined;
}

/**
 * Caps retries at a share of calls, per operation, so an outage does not multiply the
 * load on the failing provider (as Finagle's and gRPC's retry budgets do). Retries are
 * allowed while `retries <= max(minRetries, ratio * calls)` over the last `windowMs`.
 *
 * @example
 * ```ts
 * import type { RetryBudgetOptions } from '@hardening/core';
 * const strict: RetryBudgetOptions = { ratio: 0.1, minRetries: 5, windowMs: 60_000 };
 * ```
 */
export interface RetryBudgetOptions {
  /**
   * Retries allowed per call made, over the window.
   * @default 0.2
   */
  readonly ratio?: number;
  /**
   * Retries always allowed per window, so low-traffic operations can still retry.
   * @default 10
   */
  readonly minRetries?: number;
  /**
   * The window.
   * @default 10_000
   */
  readonly windowMs?: number;
}

/** What the `retryable` predicate is told about the failed attempt. */
export interface AttemptContext {
  /** Operation name. */
  readonly name: string;
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** Attempts left after this one. */
  readonly attemptsLeft: number;
}

/** Passed to {@link SafeCallHooks.onRetry}. */
export interface RetryEvent {
  readonly name: string;
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** Wait before the next attempt. */
  readonly delayMs: number;
  /** What the failed attempt threw. */
  readonly error: unknown;
  readonly correlationId: string | undefined;
}

/** Passed to {@link SafeCallHooks.onGiveUp}. */
export interface GiveUpEvent {
  readonly name: string;
  /** Attempts made. */
  readonly attempts: number;
  /** Why it stopped. */
  readonly reason: 'attempts' | 'budget' | 'retry-after' | 'deadline' | 'non-retryable' | 'circuit-open' | 'bulkhead-full' | 'aborted';
  /** The error the call ends with (before any fallback). */
  readonly error: unknown;
  readonly correlationId: string | undefined;
}

/** Passed to {@link SafeCallHooks.onTimeout}. */
export interface TimeoutEvent {
  readonly name: string;
  readonly attempt: number;
  readonly timeoutMs: number;
  readonly correlationId: string | undefined;
}

/** Passed to {@link SafeCallHooks.onSlowCall} and {@link SafeCallHooks.onSuccess}. */
export interface CallEvent {
  readonly name: string;
  /** Attempts it took. */
  readonly attempts: number;
  /** Duration of the successful attempt. */
  readonly durationMs: number;
  readonly correlationId: string | undefined;
}

/**
 * Observability hooks. A hook that throws is logged and ignored: it never changes the
 * call's outcome.
 *
 * @example
 * ```ts
 * import { createSafeCall } from '@hardening/core';
 * const safeCall = createSafeCall({
 *   hooks: {
 *     onRetry: (e) => console.log(`${e.name} attempt ${e.attempt} failed; retrying in ${e.delayMs} ms`),
 *     onBreakerStateChange: (c) => console.log(`${c.name} ${c.from} -> ${c.to}`),
 *   },
 * });
 * ```
 */
export interface SafeCallHooks {
  /** An attempt failed and another will follow after `delayMs`. */
  readonly onRetry?: ((event: RetryEvent) => void) | undefined;
  /** The call ends in an error (before any fallback). */
  readonly onGiveUp?: ((event: GiveUpEvent) => void) | undefined;
  /** An attempt timed out (its signal was aborted). */
  readonly onTimeout?: ((event: TimeoutEvent) => void) | undefined;
  /** A successful attempt took at least `slowCallThresholdMs`. */
  readonly onSlowCall?: ((event: CallEvent) => void) | undefined;
  /** The call succeeded. */
  readonly onSuccess?: ((event: CallEvent) => void) | undefined;
  /** A breaker changed state. Instance-level only (ignored in per-call options). */
  readonly onBreakerStateChange?: ((change: StateChange) => void) | undefined;
}

/**
 * Options for one call, for one operation name ({@link SafeCall.configure}), or for a
 * whole instance ({@link createSafeCall}). The defaults come from production use.
 *
 * `breaker`, `bulkhead` and `retryBudget` belong to the operation name, not to one call:
 * the settings in force when the name is first used (or configured) create them.
 *
 * @example
 * ```ts
 * import { safeCall } from '@hardening/core';
 * const reply = await safeCall('openai_chat', (signal) => fetch('http://127.0.0.1:9/v1/chat', { signal }), {
 *   attempts: 2,
 *   timeoutMs: 25_000,
 *   correlationId: 'req-42',
 *   fallback: () => new Response('We will get back to you shortly.'),
 * });
 * ```
 */
export interface SafeCallOptions<T = unknown> {
  /**
   * Attempts in all, the first included.
   * @default 3
   */
  readonly attempts?: number | undefined;
  /**
   * Timeout of each attempt; the attempt's `AbortSignal` aborts when it elapses.
   * `Infinity` turns it off.
   * @default 30_000
   */
  readonly timeoutMs?: number | undefined;
  /**
   * Overall deadline of the call, attempts and waits included, from the call's start. An
   * attempt's timeout is cut to what is left; a wait that would cross the deadline ends the
   * call at once (`RetriesExhaustedError` with reason `deadline`). `Infinity` turns it off.
   * @default Infinity (bounded by attempts x timeoutMs plus the waits)
   */
  readonly deadlineMs?: number | undefined;
  /**
   * Wait between attempts.
   * @default { initialDelayMs: 1000, factor: 2, maxDelayMs: 30_000, jitter: 'none' } (waits 1 s, then 2 s)
   */
  readonly backoff?: BackoffOptions | undefined;
  /**
   * Classifies a failure; the kind decides both the retry and the breaker: `transient` is
   * retried and counted, `caller` (bad input: a 400, Twilio 21211) is neither retried nor
   * counted, `caller-transient` (Twilio 30003, a handset out of reach) is retried within
   * `attempts` but not counted, `failure` (Twilio 30007, a sender the carrier filters) is
   * counted but not retried.
   * @default classifyError
   */
  readonly classify?: ((error: unknown) => FailureKind) | undefined;
  /**
   * Overrides the retry decision only (the breaker still follows `classify`). Errors it
   * rejects fail at once.
   * @default (error) => classify(error) === 'transient' || classify(error) === 'caller-transient'
   */
  readonly retryable?: ((error: unknown, context: AttemptContext) => boolean) | undefined;
  /**
   * Calls a returned value a failure: it is then classified, retried and counted like an
   * error (a `FailedResultError` carrying it, with its `status` and `headers`, so
   * `Retry-After` is honoured). When retries run out the `RetriesExhaustedError`'s `cause`
   * is that `FailedResultError`, whose `result` is the last value; a `fallback` sees it too.
   * `isFailedResponse` fits `fetch`: 5xx, 408, 425 and 429 responses are failures.
   * @default none (every returned value is a success)
   */
  readonly isFailureResult?: ((result: T) => boolean) | undefined;
  /**
   * The operation's circuit breaker, or `false` for none. Fields set here (per call, per
   * name or per instance) win over the registry's defaults and `registry.configure(name)`;
   * fields set nowhere take the breaker's defaults.
   * @default the registry's settings, else { failureThreshold: 3, cooldownMs: 30_000 }
   */
  readonly breaker?: Omit<CircuitBreakerOptions, 'name' | 'clock'> | false | undefined;
  /**
   * Concurrency limit for the operation, or `false` for none.
   * @default false
   */
  readonly bulkhead?: BulkheadOptions | false | undefined;
  /**
   * Retry budget for the operation, or `false` for none.
   * @default { ratio: 0.2, minRetries: 10, windowMs: 10_000 }
   */
  readonly retryBudget?: RetryBudgetOptions | false | undefined;
  /**
   * A successful call at least this long fires `onSlowCall` and a warning.
   * @default 5000
   */
  readonly slowCallThresholdMs?: number | undefined;
  /**
   * The caller's signal: aborting it aborts the running attempt's signal and the waits
   * between attempts, and ends the call with an `AbortedError`.
   */
  readonly signal?: AbortSignal | undefined;
  /**
   * Returns a value instead of throwing when the breaker refuses, the bulkhead is full, or
   * retries are exhausted. Not called for non-retryable errors or caller aborts.
   */
  readonly fallback?: ((error: unknown) => T | Promise<T>) | undefined;
  /** Carried into log lines and hook events. */
  readonly correlationId?: string | undefined;
  /** Hooks for this call (in addition to the instance's). */
  readonly hooks?: Omit<SafeCallHooks, 'onBreakerStateChange'> | undefined;
}
