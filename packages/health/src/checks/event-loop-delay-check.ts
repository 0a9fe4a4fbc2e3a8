import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { HealthCheck } from '../health-check.js';
import { assertThreshold, commonFields, roundMs, type CommonCheckOptions } from './check-options.js';

/**
 * Options for {@link eventLoopDelayCheck}.
 *
 * @example
 * ```ts
 * import type { EventLoopDelayCheckOptions } from '@hardening/health';
 * const options: EventLoopDelayCheckOptions = { warnAboveMs: 200, failAboveMs: 2000 };
 * ```
 */
export interface EventLoopDelayCheckOptions extends CommonCheckOptions {
  /**
   * Delay (at `percentile`) above which the check warns.
   * @default 100
   */
  readonly warnAboveMs?: number | undefined;
  /**
   * Delay (at `percentile`) above which the check fails.
   * @default 1000
   */
  readonly failAboveMs?: number | undefined;
  /**
   * Which percentile of the delays since the previous run is reported.
   * @default 99
   */
  readonly percentile?: number | undefined;
  /**
   * Sampling resolution of `monitorEventLoopDelay`.
   * @default 20
   */
  readonly resolutionMs?: number | undefined;
}

/**
 * Event-loop delay measured with `perf_hooks.monitorEventLoopDelay`, as
 * `eventLoop:delay` in ms: the chosen percentile of the delays since the previous run
 * (so each report covers one cache period). Not critical and not in liveness by default;
 * set `liveness: true` to let a stalled loop fail `/health/live`.
 *
 * @param options - See {@link EventLoopDelayCheckOptions}.
 * @returns The check; `monitor.close()` stops its histogram.
 * @throws TypeError when a threshold is out of range.
 * @example
 * ```ts
 * import { eventLoopDelayCheck } from '@hardening/health';
 * const check = eventLoopDelayCheck({ warnAboveMs: 200, failAboveMs: 2000, liveness: true });
 * ```
 */
export function eventLoopDelayCheck(options: EventLoopDelayCheckOptions = {}): HealthCheck {
  const { warnAboveMs = 100, failAboveMs = 1000, percentile = 99, resolutionMs = 20 } = options;
  assertThreshold('warnAboveMs', warnAboveMs);
  assertThreshold('failAboveMs', failAboveMs);
  if (failAboveMs < warnAboveMs) throw new TypeError(`Expected \`failAboveMs\` (${failAboveMs}) to be at least \`warnAboveMs\` (${warnAboveMs}).`);
  if (typeof percentile !== 'number' || !(percentile > 0 && percentile <= 100)) {
    throw new TypeError(`Expected \`percentile\` to be in (0, 100], got ${String(percentile)}.`);
  }
  if (!Number.isInteger(resolutionMs) || resolutionMs < 1)
    throw new TypeError(`Expected \`resolutionMs\` to be a positive integer, got ${String(resolutionMs)}.`);
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  return {
    ...commonFields(options, { name: 'eventLoop', measurement: 'delay', componentType: 'system', critical: false }),
    check() {
      // The histogram includes the sampling interval itself; subtract it to report delay.
      const delay = histogram.count === 0 ? 0 : roundMs(Math.max(0, histogram.percentile(percentile) / 1e6 - resolutionMs));
      const max = histogram.count === 0 ? 0 : roundMs(Math.max(0, histogram.max / 1e6 - resolutionMs));
      // Node's reset() also forgets the last sample time, so the first interval after it is
      // not measured: at most one resolution step per cache period goes unseen.
      histogram.reset();
      const status = delay > failAboveMs ? 'fail' : delay > warnAboveMs ? 'warn' : 'pass';
      return {
        status,
        observedValue: delay,
        observedUnit: 'ms',
        ...(status === 'pass' ? {} : { output: `p${percentile} delay ${delay} ms, max ${max} ms (warn above ${warnAboveMs}, fail above ${failAboveMs})` }),
      };
    },
    close() {
      histogram.disable();
    },
  };
}
