import { deprecatedEnvAliases } from '@hardening/alerting';
import type { Logger } from '@hardening/core';
import { EnvValidationError, isEnvValidationError } from '@hardening/health';

type Source = Readonly<Record<string, string | undefined>>;

/** A deprecated variable found in the environment, and what became of it. */
export interface EnvDeprecation {
  /** The deprecated name that was set (for example `ADMIN_PHONE`). */
  readonly variable: string;
  /** The name to set instead (for example `ALERT_SMS_TO`). */
  readonly use: string;
  /** `read`: its value was used for `use`; `ignored`: `use` is set too and wins. */
  readonly outcome: 'read' | 'ignored';
}

const isSet = (value: string | undefined): value is string => value !== undefined && value !== '';

/**
 * One vocabulary with `@hardening/alerting`: the app reads the package's variable names
 * (`ALERT_SMS_TO`, `SLACK_ALERT_CHANNEL`, `TWILIO_FROM_NUMBER`) and accepts its former names
 * (`ADMIN_PHONE`, `SLACK_ALERTS_CHANNEL`, `TWILIO_NUMBER`) as deprecated aliases. The table is
 * the package's own `deprecatedEnvAliases`, so the two cannot drift apart. When both names are
 * set the new one wins and the old one is reported as ignored.
 *
 * @param source - The raw environment.
 * @returns The environment with each alias copied to its new name (the source is not
 *   changed), and the deprecations found (names only, never values).
 * @example
 * ```ts
 * const { env, deprecations } = resolveDeprecatedEnv({ ADMIN_PHONE: '+15550009999' });
 * env.ALERT_SMS_TO; // '+15550009999'
 * deprecations; // [{ variable: 'ADMIN_PHONE', use: 'ALERT_SMS_TO', outcome: 'read' }]
 * ```
 */
export function resolveDeprecatedEnv(source: Source): { env: Source; deprecations: readonly EnvDeprecation[] } {
  const env: Record<string, string | undefined> = { ...source };
  const deprecations: EnvDeprecation[] = [];
  for (const [variable, use] of Object.entries(deprecatedEnvAliases)) {
    if (!isSet(source[variable])) continue;
    if (isSet(source[use])) {
      deprecations.push({ variable, use, outcome: 'ignored' });
    } else {
      env[use] = source[variable];
      deprecations.push({ variable, use, outcome: 'read' });
    }
    delete env[variable];
  }
  return { env, deprecations };
}

/**
 * Renames, in a validation error, each variable whose value came from a deprecated alias,
 * so the operator is told the name they actually set: `ADMIN_PHONE (deprecated: set
 * ALERT_SMS_TO)` rather than an `ALERT_SMS_TO` they never wrote.
 *
 * @param error - What validation threw.
 * @param deprecations - From {@link resolveDeprecatedEnv}.
 * @returns The error to throw: a new `EnvValidationError`, or `error` itself when it is not one.
 * @example
 * ```ts
 * try { validateEnv(schema, { env }); } catch (error) { throw blameDeprecatedNames(error, deprecations); }
 * ```
 */
export function blameDeprecatedNames(error: unknown, deprecations: readonly EnvDeprecation[]): unknown {
  if (!isEnvValidationError(error)) return error;
  const aliasOf = new Map(deprecations.filter((d) => d.outcome === 'read').map((d) => [d.use, d.variable]));
  if (!error.problems.some((p) => aliasOf.has(p.name))) return error;
  return new EnvValidationError(error.problems.map((p) => (aliasOf.has(p.name) ? { ...p, name: `${aliasOf.get(p.name)} (deprecated: set ${p.name})` } : p)));
}

/**
 * Logs one warning per deprecated variable found at start, naming the variable to set
 * instead and never the value.
 *
 * @param deprecations - From the configuration (`config.deprecations`).
 * @param logger - Where the warnings go.
 * @example
 * ```ts
 * warnDeprecatedEnv(config.deprecations, logger);
 * ```
 */
export function warnDeprecatedEnv(deprecations: readonly EnvDeprecation[], logger: Logger): void {
  for (const { variable, use, outcome } of deprecations) {
    logger.warn(
      { variable, use },
      outcome === 'read'
        ? `${variable} is deprecated: set ${use} instead (read as ${use} for now)`
        : `${variable} is deprecated and ignored: ${use} is set and wins; remove ${variable}`,
    );
  }
}
