import type { CircuitBreakerOptions } from '@hardening/circuit-breaker';
import type { FailureKind } from '../classifiers/classify.js';
import { classifyError } from '../classifiers/classify.js';
import type { ResolvedBackoff } from './backoff.js';
import { backoffDefaults, resolveBackoff } from './backoff.js';
import type { AttemptContext, BulkheadOptions, RetryBudgetOptions, SafeCallOptions } from './options.js';

/** Options that shape how a call runs, with every default applied and validated. */
export interface Policy {
  readonly attempts: number;
  readonly timeoutMs: number;
  readonly deadlineMs: number;
  readonly backoff: ResolvedBackoff;
  readonly classify: (error: unknown) => FailureKind;
  /** Undefined: retry what `classify` calls transient. */
  readonly retryable: ((error: unknown, context: AttemptContext) => boolean) | undefined;
  readonly isFailureResult: ((result: unknown) => boolean) | undefined;
  readonly breaker: Omit<CircuitBreakerOptions, 'name' | 'clock'> | false;
  readonly bulkhead: BulkheadOptions | false;
  readonly retryBudget: RetryBudgetOptions | false;
  readonly slowCallThresholdMs: number;
}

/**
 * The production defaults: 3 attempts (waits of 1 s then 2 s), 30 s per attempt, a
 * breaker that opens after 3 consecutive failures for 30 s, retries capped at 20% of
 * calls (10 per window minimum), slow calls from 5 s, no bulkhead.
 */
export const rootPolicy: Policy = Object.freeze({
  attempts: 3,
  timeoutMs: 30_000,
  deadlineMs: Infinity,
  backoff: backoffDefaults,
  classify: classifyError,
  retryable: undefined,
  isFailureResult: undefined,
  // Empty on purpose: the breaker's own defaults are the same (3 consecutive failures, 30 s),
  // and passing them here would override a registry's defaults and `registry.configure(name)`
  // whenever safeCall creates the breaker. safeCall passes only the fields its caller set.
  breaker: Object.freeze({}),
  bulkhead: false,
  retryBudget: Object.freeze({ ratio: 0.2, minRetries: 10, windowMs: 10_000 }),
  slowCallThresholdMs: 5000,
});

const policyKeys = [
  'attempts',
  'timeoutMs',
  'deadlineMs',
  'backoff',
  'classify',
  'retryable',
  'isFailureResult',
  'breaker',
  'bulkhead',
  'retryBudget',
  'slowCallThresholdMs',
] as const;

/** True when `options` changes anything about how the call runs (not just signal, hooks...). */
export function hasPolicyOverrides<T>(options: SafeCallOptions<T>): boolean {
  for (const key of policyKeys) if (options[key] !== undefined) return true;
  return false;
}

/** `base` with the policy fields of `options` applied; throws TypeError on bad values. */
export function resolvePolicy<T>(base: Policy, options: SafeCallOptions<T>): Policy {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`Expected options to be an object, got ${options === null ? 'null' : typeof options}.`);
  }
  const { attempts, timeoutMs, deadlineMs, backoff, classify, retryable, isFailureResult, breaker, bulkhead, retryBudget, slowCallThresholdMs } = options;
  if (attempts !== undefined && (!Number.isInteger(attempts) || attempts < 1 || attempts > 100)) {
    throw new TypeError(`Expected \`attempts\` to be an integer from 1 to 100, got ${String(attempts)}.`);
  }
  if (timeoutMs !== undefined && !(timeoutMs === Infinity || (Number.isFinite(timeoutMs) && timeoutMs > 0))) {
    throw new TypeError(`Expected \`timeoutMs\` to be a positive number or Infinity, got ${String(timeoutMs)}.`);
  }
  if (deadlineMs !== undefined && !(deadlineMs === Infinity || (Number.isFinite(deadlineMs) && deadlineMs > 0))) {
    throw new TypeError(`Expected \`deadlineMs\` to be a positive number or Infinity, got ${String(deadlineMs)}.`);
  }
  if (slowCallThresholdMs !== undefined && !(slowCallThresholdMs >= 0)) {
    throw new TypeError(`Expected \`slowCallThresholdMs\` to be a non-negative number, got ${String(slowCallThresholdMs)}.`);
  }
  for (const [key, value] of [
    ['classify', classify],
    ['retryable', retryable],
    ['isFailureResult', isFailureResult],
  ] as const) {
    if (value !== undefined && typeof value !== 'function') throw new TypeError(`Expected \`${key}\` to be a function.`);
  }
  for (const [key, value] of [
    ['breaker', breaker],
    ['bulkhead', bulkhead],
    ['retryBudget', retryBudget],
  ] as const) {
    if (value !== undefined && value !== false && (value === null || typeof value !== 'object')) {
      throw new TypeError(`Expected \`${key}\` to be an options object or false.`);
    }
  }
  return {
    attempts: attempts ?? base.attempts,
    timeoutMs: timeoutMs ?? base.timeoutMs,
    deadlineMs: deadlineMs ?? base.deadlineMs,
    backoff: resolveBackoff(backoff, base.backoff),
    classify: classify ?? base.classify,
    retryable: retryable ?? base.retryable,
    isFailureResult: (isFailureResult as ((result: unknown) => boolean) | undefined) ?? base.isFailureResult,
    breaker: breaker === undefined ? base.breaker : breaker === false ? false : { ...(base.breaker || {}), ...breaker },
    bulkhead: bulkhead ?? base.bulkhead,
    retryBudget: retryBudget === undefined ? base.retryBudget : retryBudget === false ? false : { ...(base.retryBudget || {}), ...retryBudget },
    slowCallThresholdMs: slowCallThresholdMs ?? base.slowCallThresholdMs,
  };
}
