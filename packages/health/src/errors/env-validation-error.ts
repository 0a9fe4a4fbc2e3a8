import { HardeningError, hasErrorCode } from '@hardening/core';

/**
 * One environment variable that failed validation.
 *
 * @example
 * ```ts
 * import type { EnvProblem } from '@hardening/health';
 * const line = (p: EnvProblem) => `${p.name}: ${p.kind}`;
 * ```
 */
export interface EnvProblem {
  /** The variable's name (never its value). */
  readonly name: string;
  /** `missing` (unset or empty) or `malformed` (set, but rejected by the schema). */
  readonly kind: 'missing' | 'malformed';
  /** The schema's message(s), scrubbed of secrets. */
  readonly message: string;
}

/**
 * The environment did not match its schema. The message names every missing and
 * malformed variable (never a value), so one failed start-up tells the whole story.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { validateEnv, isEnvValidationError } from '@hardening/health';
 * try {
 *   validateEnv(z.object({ DATABASE_URL: z.url() }), { env: {} });
 * } catch (error) {
 *   if (isEnvValidationError(error)) console.error(error.problems.map((p) => p.name));
 * }
 * ```
 */
export class EnvValidationError extends HardeningError<'ENV_INVALID'> {
  /** Every variable that failed, in schema order. */
  readonly problems: readonly EnvProblem[];

  /** @param problems - Every variable that failed. */
  constructor(problems: readonly EnvProblem[]) {
    const missing = problems.filter((p) => p.kind === 'missing').length;
    const malformed = problems.length - missing;
    const counts = [missing > 0 ? `${missing} missing` : '', malformed > 0 ? `${malformed} malformed` : ''].filter(Boolean).join(', ');
    const lines = problems.map((p) => `  - ${p.name}: ${p.kind === 'missing' ? 'missing' : `malformed (${p.message})`}`);
    super('ENV_INVALID', `Invalid environment (${counts}):\n${lines.join('\n')}`);
    this.problems = problems;
  }
}

/**
 * True when `error` is an {@link EnvValidationError}, from any copy of the package.
 *
 * @param error - Anything caught.
 * @returns Whether it is an environment validation failure.
 * @example
 * ```ts
 * import { isEnvValidationError } from '@hardening/health';
 * const badConfig = (e: unknown) => isEnvValidationError(e);
 * ```
 */
export function isEnvValidationError(error: unknown): error is EnvValidationError {
  return hasErrorCode(error, 'ENV_INVALID');
}
