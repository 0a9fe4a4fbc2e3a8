import type { HealthCheck } from '../health-check.js';
import { commonFields, type CommonCheckOptions } from './check-options.js';

/**
 * Options for {@link envCheck}.
 *
 * @example
 * ```ts
 * import type { EnvCheckOptions } from '@hardening/health';
 * const options: EnvCheckOptions = { required: ['DATABASE_URL', 'TWILIO_AUTH_TOKEN'] };
 * ```
 */
export interface EnvCheckOptions extends CommonCheckOptions {
  /** Names of the variables that must be set (and not empty). */
  readonly required: readonly string[];
  /**
   * Where to look.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
}

/** A list of non-empty names (narrowed to a readonly list, where `Array.isArray` alone gives `any[]`). */
function isNameList(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((n) => typeof n === 'string' && n.length > 0);
}

/**
 * Required environment variables are set. Reports the missing ones by name only (never a
 * value) as `env:configuration`. Critical by default. For start-up validation with types
 * and formats, use `validateEnv`.
 *
 * @param options - See {@link EnvCheckOptions}.
 * @returns The check.
 * @throws TypeError when `required` is not an array of non-empty strings.
 * @example
 * ```ts
 * import { envCheck } from '@hardening/health';
 * const check = envCheck({ required: ['DATABASE_URL', 'REDIS_URL', 'SLACK_SIGNING_SECRET'] });
 * ```
 */
export function envCheck(options: EnvCheckOptions): HealthCheck {
  const { required, env = process.env } = options ?? ({} as EnvCheckOptions);
  if (!isNameList(required)) {
    throw new TypeError('Expected `required` to be an array of variable names.');
  }
  const names = [...required];
  return {
    ...commonFields(options, { name: 'env', measurement: 'configuration', componentType: 'system' }),
    check() {
      const missing = names.filter((name) => env[name] === undefined || env[name] === '');
      if (missing.length === 0) return { status: 'pass', observedValue: 0, observedUnit: 'missing' };
      return { status: 'fail', observedValue: missing.length, observedUnit: 'missing', output: `missing: ${missing.join(', ')}` };
    },
  };
}
