import type { HealthCheck } from '../health-check.js';
import { assertThreshold, commonFields, type CommonCheckOptions } from './check-options.js';

/**
 * Options for {@link queueBacklogCheck}.
 *
 * @example
 * ```ts
 * import type { QueueBacklogCheckOptions } from '@hardening/health';
 * const options: QueueBacklogCheckOptions = { name: 'outbound-sms', count: () => 0, warnAt: 50, failAt: 500 };
 * ```
 */
export interface QueueBacklogCheckOptions extends CommonCheckOptions {
  /** Returns how many items wait (receives a signal aborted at the timeout). */
  readonly count: (signal: AbortSignal) => number | PromiseLike<number>;
  /**
   * Backlog at or above which the check warns.
   * @default 100
   */
  readonly warnAt?: number | undefined;
  /**
   * Backlog at or above which the check fails.
   * @default 1000
   */
  readonly failAt?: number | undefined;
  /**
   * Unit of the count in the report.
   * @default 'jobs'
   */
  readonly unit?: string | undefined;
}

/**
 * A queue's backlog against thresholds, as `<name>:backlog`. Not critical by default (a
 * backlog rarely means this instance should get no traffic); set `critical: true` to fail
 * readiness at `failAt`.
 *
 * @param options - See {@link QueueBacklogCheckOptions}.
 * @returns The check.
 * @throws TypeError when `count` is not a function or the thresholds are out of order.
 * @example
 * ```ts
 * import { queueBacklogCheck } from '@hardening/health';
 * const pending: string[] = [];
 * const check = queueBacklogCheck({ name: 'outbound-sms', count: () => pending.length, warnAt: 50, failAt: 500 });
 * ```
 */
export function queueBacklogCheck(options: QueueBacklogCheckOptions): HealthCheck {
  const { count, warnAt = 100, failAt = 1000, unit = 'jobs' } = options ?? ({} as QueueBacklogCheckOptions);
  if (typeof count !== 'function') throw new TypeError('Expected `count` to be a function returning the backlog.');
  assertThreshold('warnAt', warnAt);
  assertThreshold('failAt', failAt);
  if (failAt < warnAt) throw new TypeError(`Expected \`failAt\` (${failAt}) to be at least \`warnAt\` (${warnAt}).`);
  return {
    ...commonFields(options, { name: 'queue', measurement: 'backlog', componentType: 'component', critical: false }),
    async check({ signal }) {
      const backlog = await count(signal);
      if (typeof backlog !== 'number' || !Number.isFinite(backlog) || backlog < 0) {
        return { status: 'fail', output: `count() returned ${String(backlog)}, expected a non-negative number` };
      }
      const status = backlog >= failAt ? 'fail' : backlog >= warnAt ? 'warn' : 'pass';
      const output = status === 'pass' ? undefined : `backlog ${backlog} ${unit} (warn at ${warnAt}, fail at ${failAt})`;
      return { status, observedValue: backlog, observedUnit: unit, ...(output === undefined ? {} : { output }) };
    },
  };
}
