import type { ComponentType, HealthStatus } from './health-status.js';
import type { HealthReport } from './health-monitor.js';

/**
 * One entry of a `checks` array in an `application/health+json` body.
 *
 * @example
 * ```ts
 * import type { HealthCheckEntry } from '@hardening/health';
 * const entry: HealthCheckEntry = { componentType: 'datastore', observedValue: 3.1, observedUnit: 'ms', status: 'pass' };
 * ```
 */
export interface HealthCheckEntry {
  readonly componentId?: string;
  readonly componentType?: ComponentType;
  readonly observedValue?: string | number | boolean | null;
  readonly observedUnit?: string;
  readonly status: HealthStatus;
  readonly time?: string;
  readonly output?: string;
}

/**
 * An `application/health+json` body (IETF draft-inadarei-api-health-check).
 *
 * @example
 * ```ts
 * import type { HealthResponseBody } from '@hardening/health';
 * const body = (await (await fetch('http://127.0.0.1:3000/health')).json()) as HealthResponseBody;
 * if (body.status === 'fail') console.log(Object.keys(body.checks ?? {}));
 * ```
 */
export interface HealthResponseBody {
  readonly status: HealthStatus;
  readonly version?: string;
  readonly releaseId?: string;
  readonly serviceId?: string;
  readonly description?: string;
  readonly output?: string;
  readonly notes?: readonly string[];
  readonly checks?: Readonly<Record<string, readonly HealthCheckEntry[]>>;
}

/** The media type of the draft. */
export const healthMediaType = 'application/health+json';

/**
 * Renders a report as a draft body. The public view has the status, the lifecycle output
 * ("shutting down") and each check's name, instance ids and status; the detailed view
 * (admin token) adds service identity, uptime, observed values, timing and error text.
 */
export function renderHealthBody(report: HealthReport, detailed: boolean): HealthResponseBody {
  const checks: Record<string, HealthCheckEntry[]> = {};
  for (const result of report.checks) {
    checks[result.key] = result.observations.map((o): HealthCheckEntry => {
      if (!detailed) return o.componentId === undefined ? { status: o.status } : { componentId: o.componentId, status: o.status };
      return dropUndefined({
        componentId: o.componentId,
        componentType: result.componentType,
        observedValue: o.observedValue,
        observedUnit: o.observedUnit,
        status: o.status,
        time: result.time,
        output: o.output,
      });
    });
  }
  if (!detailed) return dropUndefined({ status: report.status, output: report.output, checks });
  checks.uptime = [{ componentType: 'system', observedValue: report.uptimeSeconds, observedUnit: 's', status: 'pass', time: report.time }];
  const notes = report.checks.filter((r) => r.status === 'fail' && !r.critical).map((r) => `${r.key} is failing but not critical: reported as warn`);
  return dropUndefined({
    status: report.status,
    version: report.version,
    releaseId: report.releaseId,
    serviceId: report.serviceId,
    description: report.description,
    output: report.output,
    notes: notes.length > 0 ? notes : undefined,
    checks,
  });
}

/** `T` with its `undefined`-valued keys made optional and their `undefined` dropped: what {@link dropUndefined} returns. */
type WithoutUndefined<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

function dropUndefined<T extends object>(value: T): WithoutUndefined<T> {
  for (const key of Object.keys(value) as Array<keyof T>) if (value[key] === undefined) delete value[key];
  return value;
}
