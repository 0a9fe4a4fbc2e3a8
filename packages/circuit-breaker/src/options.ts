import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import type { SlidingWindowOptions } from './sliding-window.js';

/**
 * Options for a {@link CircuitBreaker}. Every field is optional; the defaults are the ones
 * `@hardening/core`'s `safeCall` uses in production.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from '@hardening/circuit-breaker';
 * const breaker = new CircuitBreaker({
 *   name: 'openai_chat',
 *   failureThreshold: 5,
 *   failureRateThreshold: 50,
 *   minimumCalls: 20,
 *   slidingWindow: { type: 'time', sizeMs: 60_000 },
 *   slowCallRateThreshold: 80,
 *   slowCallDurationMs: 10_000,
 *   isFailure: (error) => !(error instanceof TypeError),
 * });
 * ```
 */
export interface CircuitBreakerOptions {
  /**
   * Name used in errors, events and snapshots, e.g. `twilio_sms`.
   * @default 'default'
   */
  readonly name?: string | undefined;
  /**
   * Consecutive failures that open a closed breaker. `Infinity` turns the rule off.
   * @default 3
   */
  readonly failureThreshold?: number | undefined;
  /**
   * Failure rate, in percent (0-100], over the sliding window that opens the breaker once
   * `minimumCalls` calls are in the window. Unset turns the rule off.
   * @default undefined
   */
  readonly failureRateThreshold?: number | undefined;
  /**
   * Share of slow calls, in percent (0-100], over the sliding window that opens the
   * breaker (resilience4j's slow-call rate). Unset turns the rule off.
   * @default undefined
   */
  readonly slowCallRateThreshold?: number | undefined;
  /**
   * A call that takes at least this long counts as slow.
   * @default 60_000
   */
  readonly slowCallDurationMs?: number | undefined;
  /**
   * The window the rates are measured over. Only kept when a rate threshold is set.
   * @default { type: 'count', size: 100 }
   */
  readonly slidingWindow?: SlidingWindowOptions | undefined;
  /**
   * Calls the window must hold before either rate can open the breaker.
   * @default 10
   */
  readonly minimumCalls?: number | undefined;
  /**
   * How long an open breaker refuses calls before it lets a probe through.
   * @default 30_000
   */
  readonly cooldownMs?: number | undefined;
  /**
   * Probe calls let through while half-open; their outcomes decide close or re-open.
   * @default 1
   */
  readonly halfOpenMaxCalls?: number | undefined;
  /**
   * A half-open breaker whose probes have not all reported after this long re-opens
   * (reason `probe-timed-out`), so a hung probe cannot hold it half-open forever.
   * @default cooldownMs
   */
  readonly maxHalfOpenWaitMs?: number | undefined;
  /**
   * Decides whether an error counts as a failure. Return `false` for expected errors
   * (an HTTP 4xx, a validation error): they neither count as failures nor reset the
   * consecutive-failure count.
   * @default every error is a failure
   */
  readonly isFailure?: ((error: unknown) => boolean) | undefined;
  /**
   * Time source, epoch milliseconds.
   * @default Date.now
   */
  readonly clock?: Clock | undefined;
}

/** Breaker options with every default applied, as `breaker.options` shows them. */
export interface ResolvedBreakerOptions {
  readonly name: string;
  readonly failureThreshold: number;
  readonly failureRateThreshold: number | undefined;
  readonly slowCallRateThreshold: number | undefined;
  readonly slowCallDurationMs: number;
  readonly slidingWindow: SlidingWindowOptions;
  readonly minimumCalls: number;
  readonly cooldownMs: number;
  readonly halfOpenMaxCalls: number;
  readonly maxHalfOpenWaitMs: number;
  readonly isFailure: ((error: unknown) => boolean) | undefined;
  readonly clock: Clock;
}

/** Typed up front so `breakerDefaults.slidingWindow` is the union, not the literal `'count'` shape. */
const defaultSlidingWindow: SlidingWindowOptions = Object.freeze({ type: 'count', size: 100 });

/**
 * The defaults every breaker starts from.
 *
 * @example
 * ```ts
 * import { breakerDefaults } from '@hardening/circuit-breaker';
 * console.log(breakerDefaults.cooldownMs); // 30000
 * ```
 */
export const breakerDefaults = Object.freeze({
  name: 'default',
  failureThreshold: 3,
  slowCallDurationMs: 60_000,
  slidingWindow: defaultSlidingWindow,
  minimumCalls: 10,
  cooldownMs: 30_000,
  halfOpenMaxCalls: 1,
});

function positiveInteger(name: string, value: number, allowInfinity = false): number {
  if ((allowInfinity && value === Infinity) || (Number.isInteger(value) && value >= 1)) return value;
  throw new TypeError(`Expected \`${name}\` to be a positive integer${allowInfinity ? ' or Infinity' : ''}, got ${String(value)}.`);
}

function nonNegativeFinite(name: string, value: number): number {
  if (Number.isFinite(value) && value >= 0) return value;
  throw new TypeError(`Expected \`${name}\` to be a non-negative finite number, got ${String(value)}.`);
}

function percent(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (Number.isFinite(value) && value > 0 && value <= 100) return value;
  throw new TypeError(`Expected \`${name}\` to be a percentage in (0, 100], got ${String(value)}.`);
}

/** The fields a breaker's options can set, for replacing a whole option set at once. */
const optionKeys = [
  'failureThreshold',
  'failureRateThreshold',
  'slowCallRateThreshold',
  'slowCallDurationMs',
  'slidingWindow',
  'minimumCalls',
  'cooldownMs',
  'halfOpenMaxCalls',
  'maxHalfOpenWaitMs',
  'isFailure',
  'clock',
] as const satisfies readonly (keyof CircuitBreakerOptions)[];

/**
 * @internal `options` with every field present (`undefined` where unset), so that merging
 * it over a breaker's current options replaces them all (back to the defaults where unset).
 */
export function everyOption(options: Omit<CircuitBreakerOptions, 'name'>): Omit<CircuitBreakerOptions, 'name'> {
  const full: Record<string, unknown> = {};
  for (const key of optionKeys) full[key] = options[key];
  return full;
}

/**
 * @internal Applies defaults and validates; throws `TypeError` naming the bad field. A field
 * set to `undefined` takes its default.
 */
export function resolveBreakerOptions(options: CircuitBreakerOptions = {}): ResolvedBreakerOptions {
  const name = options.name ?? breakerDefaults.name;
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError(`Expected \`name\` to be a non-empty string, got ${JSON.stringify(name)}.`);
  }
  if (options.isFailure !== undefined && typeof options.isFailure !== 'function') {
    throw new TypeError('Expected `isFailure` to be a function.');
  }
  const cooldownMs = nonNegativeFinite('cooldownMs', options.cooldownMs ?? breakerDefaults.cooldownMs);
  return {
    name,
    failureThreshold: positiveInteger('failureThreshold', options.failureThreshold ?? breakerDefaults.failureThreshold, true),
    failureRateThreshold: percent('failureRateThreshold', options.failureRateThreshold),
    slowCallRateThreshold: percent('slowCallRateThreshold', options.slowCallRateThreshold),
    slowCallDurationMs: nonNegativeFinite('slowCallDurationMs', options.slowCallDurationMs ?? breakerDefaults.slowCallDurationMs),
    slidingWindow: options.slidingWindow ?? breakerDefaults.slidingWindow,
    minimumCalls: positiveInteger('minimumCalls', options.minimumCalls ?? breakerDefaults.minimumCalls),
    cooldownMs,
    halfOpenMaxCalls: positiveInteger('halfOpenMaxCalls', options.halfOpenMaxCalls ?? breakerDefaults.halfOpenMaxCalls),
    maxHalfOpenWaitMs: nonNegativeFinite('maxHalfOpenWaitMs', options.maxHalfOpenWaitMs ?? cooldownMs),
    isFailure: options.isFailure,
    clock: options.clock ?? systemClock,
  };
}
