import type { HealthCheck } from '../health-check.js';
import { assertThreshold, commonFields, roundMs, type CommonCheckOptions } from './check-options.js';

/**
 * The part of a Prisma client the check uses: `$queryRaw` as a tagged template.
 *
 * @example
 * ```ts
 * import type { PrismaQueryRaw } from '@hardening/health';
 * declare const prisma: PrismaQueryRaw; // a PrismaClient fits
 * await prisma.$queryRaw`SELECT 1`;
 * ```
 */
export interface PrismaQueryRaw {
  $queryRaw(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<unknown>;
}

/**
 * The part of a SQL client the check uses: `query(text)`, as `pg`'s `Pool` and `Client` have.
 *
 * @example
 * ```ts
 * import { Pool } from 'pg';
 * import type { SqlQueryClient } from '@hardening/health';
 * const client: SqlQueryClient = new Pool();
 * ```
 */
export interface SqlQueryClient {
  query(text: string): PromiseLike<unknown>;
}

/**
 * Options for {@link postgresCheck}: exactly one of `prisma`, `client`, `query`.
 *
 * @example
 * ```ts
 * import type { PostgresCheckOptions } from '@hardening/health';
 * const options: PostgresCheckOptions = { query: async () => {}, warnAboveMs: 200 };
 * ```
 */
export interface PostgresCheckOptions extends CommonCheckOptions {
  /** A Prisma client: the check runs `` $queryRaw`SELECT 1` ``. */
  readonly prisma?: PrismaQueryRaw | undefined;
  /** A `pg` Pool or Client (anything with `query(text)`): the check runs `SELECT 1`. */
  readonly client?: SqlQueryClient | undefined;
  /** Your own probe (its result, or the promise it returns, is awaited); receives a signal aborted at the check's timeout. */
  readonly query?: ((signal: AbortSignal) => unknown) | undefined;
  /**
   * Round-trip time above which the check warns.
   * @default 500
   */
  readonly warnAboveMs?: number | undefined;
}

/**
 * PostgreSQL reachability and round-trip time: `SELECT 1` through Prisma, a `pg` client or
 * your own function. Reports `postgres:responseTime` in ms; `warn` when slower than
 * `warnAboveMs`, `fail` on an error or at the timeout. Critical by default.
 *
 * @param options - See {@link PostgresCheckOptions}.
 * @returns The check.
 * @throws TypeError unless exactly one of `prisma`, `client`, `query` is given.
 * @example
 * ```ts
 * import { Pool } from 'pg';
 * import { postgresCheck } from '@hardening/health';
 *
 * const pool = new Pool({ connectionString: process.env.DATABASE_URL });
 * const check = postgresCheck({ client: pool });
 * // With Prisma: postgresCheck({ prisma })
 * ```
 */
export function postgresCheck(options: PostgresCheckOptions): HealthCheck {
  const { prisma, client, query, warnAboveMs = 500 } = options ?? {};
  const given = [prisma, client, query].filter((x) => x !== undefined).length;
  if (given !== 1) throw new TypeError('Expected exactly one of `prisma`, `client` or `query`.');
  if (prisma !== undefined && typeof prisma.$queryRaw !== 'function') throw new TypeError('Expected `prisma` to have a `$queryRaw` method.');
  if (client !== undefined && typeof client.query !== 'function') throw new TypeError('Expected `client` to have a `query(text)` method.');
  if (query !== undefined && typeof query !== 'function') throw new TypeError('Expected `query` to be a function.');
  assertThreshold('warnAboveMs', warnAboveMs);
  const probe: (signal: AbortSignal) => unknown =
    prisma !== undefined ? () => prisma.$queryRaw`SELECT 1` : client !== undefined ? () => client.query('SELECT 1') : query!;
  return {
    ...commonFields(options, { name: 'postgres', measurement: 'responseTime', componentType: 'datastore' }),
    async check({ signal }) {
      const started = performance.now();
      await probe(signal);
      const ms = roundMs(performance.now() - started);
      return {
        status: ms > warnAboveMs ? 'warn' : 'pass',
        observedValue: ms,
        observedUnit: 'ms',
        ...(ms > warnAboveMs ? { output: `slow: ${ms} ms (warn above ${warnAboveMs} ms)` } : {}),
      };
    },
  };
}
