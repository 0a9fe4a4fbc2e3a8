import type { Severity } from './alert.js';
import { severities } from './alert.js';

/**
 * Sinks per severity, by sink name.
 *
 * @example
 * ```ts
 * import type { RouteTable } from '@hardening/alerting';
 * const routes: RouteTable = { HIGH: ['sms', 'slack', 'pagerduty'], MEDIUM: ['slack'], LOW: ['log'] };
 * ```
 */
export type RouteTable = Partial<Record<Severity, readonly string[]>>;

/**
 * HIGH to SMS and Slack, MEDIUM to Slack, LOW to the log.
 *
 * @example
 * ```ts
 * import { defaultRoutes } from '@hardening/alerting';
 * createAlertService({ sinks, routes: { ...defaultRoutes, HIGH: [...defaultRoutes.HIGH, 'pagerduty'] } });
 * ```
 */
export const defaultRoutes: Readonly<Record<Severity, readonly string[]>> = Object.freeze({
  HIGH: Object.freeze(['sms', 'slack']),
  MEDIUM: Object.freeze(['slack']),
  LOW: Object.freeze(['log']),
});

/**
 * Checks a route table against the configured sink names.
 *
 * @param table - The routes.
 * @param known - Names of configured sinks (the log included).
 * @param field - The option's name, for the error.
 * @throws TypeError for an unknown severity or sink name.
 */
export function checkRoutes(table: unknown, known: ReadonlySet<string>, field: string): RouteTable {
  if (table === undefined) return {};
  if (typeof table !== 'object' || table === null || Array.isArray(table)) {
    throw new TypeError(`Expected \`${field}\` to be an object like { HIGH: ['sms', 'slack'] }.`);
  }
  for (const [severity, names] of Object.entries(table)) {
    if (!severities.includes(severity as Severity))
      throw new TypeError(`Expected the keys of \`${field}\` to be ${severities.join(', ')}, got ${JSON.stringify(severity)}.`);
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
      throw new TypeError(`Expected \`${field}.${severity}\` to be a list of sink names.`);
    }
    for (const name of names) {
      if (!known.has(name)) {
        throw new TypeError(`\`${field}.${severity}\` names the sink ${JSON.stringify(name)}, which is not configured (configured: ${[...known].join(', ')}).`);
      }
    }
  }
  return table;
}

/**
 * The sinks for one alert: the type's own route for the severity, else the service's,
 * else the default. Default routes silently skip sinks that are not configured; a severity
 * whose default route names none of them goes to the first remote sink configured (better
 * than nobody), or to the log.
 *
 * @param severity - The alert's severity.
 * @param typeRoutes - The type's routes, if any.
 * @param routes - The service's routes.
 * @param known - Configured sink names.
 * @param firstRemote - The first remote sink configured, if any.
 * @param logName - The log sink's name.
 * @returns Sink names, never empty.
 */
export function routeFor(
  severity: Severity,
  typeRoutes: RouteTable | undefined,
  routes: RouteTable,
  known: ReadonlySet<string>,
  firstRemote: string | undefined,
  logName: string,
): readonly string[] {
  const explicit = typeRoutes?.[severity] ?? routes[severity];
  if (explicit !== undefined) return explicit.length > 0 ? explicit : [logName];
  const chosen = defaultRoutes[severity].filter((name) => known.has(name));
  if (chosen.length > 0) return chosen;
  if (severity !== 'LOW' && firstRemote !== undefined) return [firstRemote];
  return [logName];
}
