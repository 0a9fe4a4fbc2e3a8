import { scrubText } from '@hardening/core';
import { EnvValidationError, type EnvProblem } from './errors/env-validation-error.js';

/**
 * The part of the Standard Schema interface (https://standardschema.dev) that
 * {@link validateEnv} uses. Zod 3.24+/4, Valibot and ArkType schemas all implement it, so
 * this package needs none of them at run time.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import type { StandardSchema } from '@hardening/health';
 * const port: StandardSchema<number> = z.coerce.number().int();
 * ```
 */
export interface StandardSchema<Output = unknown> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: unknown; readonly output: Output } | undefined;
  };
}

/**
 * A Standard Schema validation result.
 *
 * @example
 * ```ts
 * import type { StandardResult } from '@hardening/health';
 * const ok = (r: StandardResult<unknown>) => r.issues === undefined;
 * ```
 */
export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | {
      readonly issues: ReadonlyArray<{
        readonly message: string;
        readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
      }>;
    };

/**
 * The output type of a schema, or of a shape of schemas: what {@link validateEnv} returns.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import type { EnvOutput } from '@hardening/health';
 * type Config = EnvOutput<{ PORT: z.ZodCoercedNumber }>; // { PORT: number }
 * ```
 */
export type EnvOutput<S> = S extends StandardSchema<infer O> ? O : { [K in keyof S]: S[K] extends StandardSchema<infer O> ? O : never };

/**
 * Options for {@link validateEnv}.
 *
 * @example
 * ```ts
 * import type { ValidateEnvOptions } from '@hardening/health';
 * const options: ValidateEnvOptions = { env: { PORT: '3000' }, emptyAsMissing: true };
 * ```
 */
export interface ValidateEnvOptions {
  /**
   * The variables to validate.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Treat `FOO=` (empty) as unset, so a required variable left blank is reported missing.
   * @default true
   */
  readonly emptyAsMissing?: boolean;
}

/**
 * Validates environment variables against a schema at start-up and returns them parsed
 * and typed. On failure it throws one {@link EnvValidationError} whose message names every
 * missing and every malformed variable (never a value), so one failed boot lists
 * everything to fix.
 *
 * Pass a Zod object schema (`z.object({...})`) or a plain shape of schemas
 * (`{ PORT: z.coerce.number() }`); any Standard Schema library works.
 *
 * @param schema - An object schema, or a record of per-variable schemas.
 * @param options - See {@link ValidateEnvOptions}.
 * @returns The parsed values.
 * @throws EnvValidationError listing every problem.
 * @throws TypeError when the schema is not a Standard Schema or validates asynchronously.
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { validateEnv } from '@hardening/health';
 *
 * export const config = validateEnv(
 *   z.object({
 *     DATABASE_URL: z.url(),
 *     REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
 *     PORT: z.coerce.number().int().min(1).max(65535).default(3000),
 *     TWILIO_AUTH_TOKEN: z.string().min(32),
 *     LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).optional(),
 *   }),
 *   { env: { DATABASE_URL: 'postgresql://127.0.0.1/app', TWILIO_AUTH_TOKEN: 'x'.repeat(32) } },
 * );
 * ```
 */
export function validateEnv<S extends StandardSchema | Readonly<Record<string, StandardSchema>>>(schema: S, options: ValidateEnvOptions = {}): EnvOutput<S> {
  const { env = process.env, emptyAsMissing = true } = options;
  const input: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!(emptyAsMissing && value === '')) input[name] = value;
  }
  if (isStandardSchema(schema)) {
    const result = validateSync(schema, input, 'schema');
    if (result.issues === undefined) return result.value as EnvOutput<S>;
    const byName = new Map<string, string[]>();
    for (const issue of result.issues) {
      const first = issue.path?.[0];
      const key = first === undefined ? wholeEnvironment : String(typeof first === 'object' ? first.key : first);
      byName.set(key, [...(byName.get(key) ?? []), issue.message]);
    }
    throw new EnvValidationError([...byName].map(([name, messages]) => problemFor(name, name === wholeEnvironment ? '' : input[name], messages)));
  }
  if (typeof schema !== 'object' || schema === null) {
    throw new TypeError('Expected `schema` to be a Standard Schema (e.g. z.object({...})) or a record of them.');
  }
  const out: Record<string, unknown> = {};
  const problems: EnvProblem[] = [];
  for (const [name, field] of Object.entries(schema as Record<string, unknown>)) {
    if (!isStandardSchema(field)) throw new TypeError(`Expected \`schema.${name}\` to be a Standard Schema (e.g. z.string()).`);
    const result = validateSync(field, input[name], name);
    if (result.issues === undefined) {
      if (result.value !== undefined) out[name] = result.value;
    } else {
      problems.push(
        problemFor(
          name,
          input[name],
          result.issues.map((i) => i.message),
        ),
      );
    }
  }
  if (problems.length > 0) throw new EnvValidationError(problems);
  return out as EnvOutput<S>;
}

/** Where issues of the whole object (a cross-field refinement) are listed. */
const wholeEnvironment = '(environment)';

function isStandardSchema(value: unknown): value is StandardSchema {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as Partial<StandardSchema>)['~standard']?.validate === 'function'
  );
}

function validateSync(schema: StandardSchema, value: unknown, label: string): StandardResult<unknown> {
  const result = schema['~standard'].validate(value);
  if (result instanceof Promise) {
    result.catch(() => {});
    throw new TypeError(`Expected \`${label}\` to validate synchronously (no async refinements in an env schema).`);
  }
  return result;
}

function problemFor(name: string, value: string | undefined, messages: readonly string[]): EnvProblem {
  // The messages come from the schema library; scrubbed in case a custom one echoes a value.
  return { name, kind: value === undefined ? 'missing' : 'malformed', message: scrubText(messages.join('; ')) };
}
