/**
 * A health status as the IETF draft "Health Check Response Format for HTTP APIs" defines
 * it: `pass` (healthy), `warn` (healthy, with concerns), `fail` (unhealthy).
 *
 * @example
 * ```ts
 * import type { HealthStatus } from '@hardening/health';
 * const httpStatus = (status: HealthStatus) => (status === 'fail' ? 503 : 200);
 * ```
 */
export type HealthStatus = 'pass' | 'warn' | 'fail';

/**
 * The draft's `componentType`: `component`, `datastore` or `system`, or any other
 * string a consumer understands.
 *
 * @example
 * ```ts
 * import type { ComponentType } from '@hardening/health';
 * const type: ComponentType = 'datastore';
 * ```
 */
export type ComponentType = 'component' | 'datastore' | 'system' | (string & {});

const rank: Record<HealthStatus, number> = { pass: 0, warn: 1, fail: 2 };

/**
 * The worse of the given statuses (`fail` over `warn` over `pass`); `pass` for none.
 *
 * @param statuses - Statuses to combine.
 * @returns The worst one.
 * @example
 * ```ts
 * import { worstStatus } from '@hardening/health';
 * worstStatus(['pass', 'warn']); // 'warn'
 * ```
 */
export function worstStatus(statuses: Iterable<HealthStatus>): HealthStatus {
  let worst: HealthStatus = 'pass';
  for (const status of statuses) if (rank[status] > rank[worst]) worst = status;
  return worst;
}

/**
 * The HTTP status for a health status: 200 for `pass` and `warn`, 503 for `fail`.
 *
 * @param status - The health status.
 * @returns 200 or 503.
 * @example
 * ```ts
 * import { httpStatusFor } from '@hardening/health';
 * httpStatusFor('warn'); // 200
 * ```
 */
export function httpStatusFor(status: HealthStatus): 200 | 503 {
  return status === 'fail' ? 503 : 200;
}

/** True for the three status strings. */
export function isHealthStatus(value: unknown): value is HealthStatus {
  return value === 'pass' || value === 'warn' || value === 'fail';
}
