import type { HealthCheck } from '../health-check.js';
import { commonFields, type CommonCheckOptions } from './check-options.js';

/**
 * The part of an alert system's status the check reads (`@hardening/alerting`'s
 * `getAlertSystemStatus()` fits as is; extra fields are fine).
 *
 * @example
 * ```ts
 * import type { AlertSystemStatus } from '@hardening/health';
 * const status: AlertSystemStatus = { enabled: false, reason: 'SLACK_WEBHOOK_URL not set' };
 * ```
 */
export interface AlertSystemStatus {
  /** Whether alerts can be delivered. */
  readonly enabled: boolean;
  /** Why not, when disabled. */
  readonly reason?: string;
  /**
   * What is wrong while enabled (a store down, a sink failing, pages pending): the check
   * then warns with them.
   */
  readonly problems?: readonly string[];
}

/**
 * Anything that reports its alert status.
 *
 * @example
 * ```ts
 * import type { AlertSystemStatusSource } from '@hardening/health';
 * const source: AlertSystemStatusSource = { getAlertSystemStatus: () => ({ enabled: true }) };
 * ```
 */
export interface AlertSystemStatusSource {
  getAlertSystemStatus(): AlertSystemStatus | PromiseLike<AlertSystemStatus>;
}

/**
 * Options for {@link alertSystemCheck}.
 *
 * @example
 * ```ts
 * import type { AlertSystemCheckOptions } from '@hardening/health';
 * const options: AlertSystemCheckOptions = { source: { getAlertSystemStatus: () => ({ enabled: true }) } };
 * ```
 */
export interface AlertSystemCheckOptions extends CommonCheckOptions {
  /** The alert system. */
  readonly source: AlertSystemStatusSource;
}

/**
 * Whether alerts can go out: enabled `pass`; disabled `warn` with output
 * `degraded: <reason>` (the service works, but nobody would hear about the next outage).
 * Not critical by default.
 *
 * @param options - See {@link AlertSystemCheckOptions}.
 * @returns The check.
 * @throws TypeError when `source` has no `getAlertSystemStatus()`.
 * @example
 * ```ts
 * import { alertSystemCheck } from '@hardening/health';
 * const alerts = { getAlertSystemStatus: () => ({ enabled: false, reason: 'no sink configured' }) };
 * const check = alertSystemCheck({ source: alerts });
 * ```
 */
export function alertSystemCheck(options: AlertSystemCheckOptions): HealthCheck {
  const source = options?.source;
  if (typeof source?.getAlertSystemStatus !== 'function') {
    throw new TypeError('Expected `source` to have a `getAlertSystemStatus()` method.');
  }
  return {
    ...commonFields(options, { name: 'alerts', measurement: 'status', componentType: 'component', critical: false }),
    async check() {
      const status = await source.getAlertSystemStatus();
      if (typeof status?.enabled !== 'boolean') return { status: 'fail', output: 'getAlertSystemStatus() returned no `enabled` flag' };
      const problems = Array.isArray(status.problems) ? status.problems.filter((p): p is string => typeof p === 'string') : [];
      if (status.enabled && problems.length > 0) return { status: 'warn', observedValue: 'enabled', output: `degraded: ${problems.join('; ')}` };
      if (status.enabled) return { status: 'pass', observedValue: 'enabled' };
      const reason = typeof status.reason === 'string' && status.reason !== '' ? status.reason : 'alerts disabled';
      return { status: 'warn', observedValue: 'disabled', output: `degraded: ${reason}` };
    },
  };
}
