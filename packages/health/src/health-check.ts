import type { ComponentType, HealthStatus } from './health-status.js';

/**
 * One observation a check makes: one entry of the draft's `checks` arrays. A check that
 * watches several instances (every circuit breaker, every queue) returns one per instance,
 * each with its own `componentId`.
 *
 * `output` and `observedValue` are details: only a caller with the admin token sees them.
 *
 * @example
 * ```ts
 * import type { CheckObservation } from '@hardening/health';
 * const slow: CheckObservation = { status: 'warn', observedValue: 740, observedUnit: 'ms', output: 'slow' };
 * ```
 */
export interface CheckObservation {
  /** `pass`, `warn` or `fail`. */
  readonly status: HealthStatus;
  /** Which instance this is about (`twilio_sms`, `replica-2`); shown publicly, so no hostnames. */
  readonly componentId?: string | undefined;
  /** The measured value (latency, count, state). Admin only. */
  readonly observedValue?: string | number | boolean | null | undefined;
  /** Unit of `observedValue` (`ms`, `s`, `jobs`). Admin only. */
  readonly observedUnit?: string | undefined;
  /** Human-readable detail, e.g. the error text. Admin only; scrubbed of secrets. */
  readonly output?: string | undefined;
}

/**
 * What a check function may return: nothing or `true` (pass), `false` (fail), a status,
 * one observation, or several.
 *
 * @example
 * ```ts
 * import type { CheckOutcome } from '@hardening/health';
 * const outcomes: CheckOutcome[] = [undefined, true, 'warn', { status: 'fail', output: 'disk full' }];
 * ```
 */
export type CheckOutcome = void | boolean | HealthStatus | CheckObservation | readonly CheckObservation[];

/**
 * What a check function receives.
 *
 * @example
 * ```ts
 * import type { CheckContext } from '@hardening/health';
 * const check = async ({ signal }: CheckContext) => {
 *   const response = await fetch('http://127.0.0.1:8080/ping', { signal });
 *   return response.ok;
 * };
 * ```
 */
export interface CheckContext {
  /** Aborted when the check's timeout elapses: pass it on to the I/O you do. */
  readonly signal: AbortSignal;
}

/**
 * A health check: a named probe of one dependency or of the process itself.
 *
 * Implement it directly, or use {@link defineCheck} or one of the shipped checks
 * (`postgresCheck`, `redisCheck`, `envCheck`, `circuitBreakerCheck`, `alertSystemCheck`,
 * `queueBacklogCheck`, `eventLoopDelayCheck`).
 *
 * @example
 * ```ts
 * import type { HealthCheck } from '@hardening/health';
 *
 * const diskCheck: HealthCheck = {
 *   name: 'disk',
 *   measurement: 'utilization',
 *   componentType: 'system',
 *   critical: false,
 *   check: () => ({ status: 'pass', observedValue: 41, observedUnit: 'percent' }),
 * };
 * ```
 */
export interface HealthCheck {
  /** Component name, e.g. `postgres`. Unique per monitor together with `measurement`. */
  readonly name: string;
  /**
   * Measurement name; the key in the report is `name:measurement` (`postgres:responseTime`).
   * @default undefined (the key is just `name`)
   */
  readonly measurement?: string | undefined;
  /**
   * The draft's `componentType`.
   * @default 'component'
   */
  readonly componentType?: ComponentType | undefined;
  /**
   * Whether the service cannot work without it. A failing critical check fails readiness
   * and makes `/health` answer `fail` (503); a failing non-critical check only makes it `warn`.
   * @default true
   */
  readonly critical?: boolean | undefined;
  /**
   * Whether `/health/live` runs it. Only for checks of the process itself (event-loop
   * delay, memory): a dependency in liveness makes an orchestrator restart every instance
   * during that dependency's outage.
   * @default false
   */
  readonly liveness?: boolean | undefined;
  /**
   * How long one run may take before it counts as `fail: timed out after X ms`.
   * @default the monitor's `timeoutMs`
   */
  readonly timeoutMs?: number | undefined;
  /**
   * How long a result is served before a refresh is started.
   * @default the monitor's `cacheMs`
   */
  readonly cacheMs?: number | undefined;
  /**
   * Runs the check. Throwing (or rejecting) counts as `fail` with the error's message
   * as output.
   */
  check(context: CheckContext): CheckOutcome | Promise<CheckOutcome>;
  /** Releases what the check holds (timers, histograms); called by `HealthMonitor.close()`. */
  close?(): void;
}

/**
 * Options of {@link defineCheck}: every {@link HealthCheck} field except `name` and `check`.
 *
 * @example
 * ```ts
 * import type { DefineCheckOptions } from '@hardening/health';
 * const options: DefineCheckOptions = { critical: false, timeoutMs: 2000 };
 * ```
 */
export type DefineCheckOptions = Omit<HealthCheck, 'name' | 'check'>;

/**
 * Builds a custom {@link HealthCheck} from a function.
 *
 * @param name - Component name.
 * @param fn - The check: return nothing/`true` (pass), `false` (fail), a status, or observations; throw to fail.
 * @param options - Other {@link HealthCheck} fields.
 * @returns The check.
 * @throws TypeError when `name` is empty or `fn` is not a function.
 * @example
 * ```ts
 * import { defineCheck } from '@hardening/health';
 *
 * const stripeCheck = defineCheck(
 *   'stripe',
 *   async ({ signal }) => (await fetch('http://127.0.0.1:12111/healthz', { signal })).ok,
 *   { critical: false, timeoutMs: 2000 },
 * );
 * ```
 */
export function defineCheck(name: string, fn: HealthCheck['check'], options: DefineCheckOptions = {}): HealthCheck {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('Expected `name` to be a non-empty string.');
  if (typeof fn !== 'function') throw new TypeError('Expected `fn` to be a function.');
  return { ...options, name, check: fn };
}
