import type { CircuitBreakerOptions } from '@hardening/circuit-breaker';
import { isTransientPrismaError } from '../classifiers/database.js';
import type { Logger } from '../logger.js';
import { consoleLogger } from '../logger.js';
import type { SafeCall } from '../safe-call/create-safe-call.js';
import { createSafeCall } from '../safe-call/create-safe-call.js';
import { writeNeverApplied } from './never-reached-database.js';

/**
 * Options for {@link prismaHardening}.
 *
 * @example
 * ```ts
 * import { prismaHardening } from '@hardening/core/prisma';
 * const extension = prismaHardening({ attempts: 3, breaker: { failureThreshold: 5 }, slowQueryMs: 5000 });
 * ```
 */
export interface PrismaHardeningOptions {
  /**
   * Operation name for the breaker, logs and hooks.
   * @default 'database'
   */
  readonly name?: string;
  /**
   * The `safeCall` instance to run queries through (its registry holds the breaker).
   * @default createSafeCall({ logger })
   */
  readonly safeCall?: SafeCall;
  /**
   * Attempts per query outside transactions, the first included.
   * @default 3
   */
  readonly attempts?: number;
  /**
   * Wait before the first retry; doubles each retry.
   * @default 100
   */
  readonly initialDelayMs?: number;
  /**
   * The database breaker. Caller errors never count (a unique-constraint violation or a
   * missing record says nothing about the database's health): safeCall's default
   * classifier, `classifyError`, calls them `caller`.
   * @default { failureThreshold: 5, cooldownMs: 30_000 }
   */
  readonly breaker?: Omit<CircuitBreakerOptions, 'name' | 'clock' | 'isFailure'>;
  /**
   * Queries at least this long are logged as slow (model and operation, never arguments).
   * @default 5000
   */
  readonly slowQueryMs?: number;
  /**
   * Where retries, slow queries and breaker changes are logged.
   * @default JSON lines on the console
   */
  readonly logger?: Logger;
}

/** Operations that only read: safe to retry after any transient error. */
const readOperations = new Set([
  'findUnique',
  'findUniqueOrThrow',
  'findFirst',
  'findFirstOrThrow',
  'findMany',
  'count',
  'aggregate',
  'groupBy',
  'findRaw',
  'aggregateRaw',
]);

interface QueryCallbackArgs {
  model?: string;
  operation: string;
  args: unknown;
  query: (args: unknown) => Promise<unknown>;
  /** Undocumented; the only way to tell a query runs inside a transaction (prisma/prisma#20789). */
  __internalParams?: { transaction?: unknown };
}

/**
 * A Prisma Client extension that hardens every query, model and raw alike:
 *
 * - Transient errors are retried with backoff (3 attempts, 100 ms then 200 ms). Reads retry
 *   on any transient error; writes and raw SQL only on errors after which the write
 *   certainly did not happen (database unreachable, no pool connection, deadlock or
 *   serialization failure), never after a connection lost mid-statement.
 * - Nothing is retried inside a transaction (interactive or batch): a failed statement
 *   aborts the transaction, and only the whole transaction can be retried.
 * - A breaker named `database` opens after 5 consecutive transient failures and refuses
 *   queries (`CircuitOpenError`) for 30 s, so an outage fails fast instead of piling up.
 * - Queries of 5 s or more are logged as slow, with model and operation only.
 *
 * Statement timeouts belong on the connection (`statement_timeout` on the pool, `SET LOCAL`
 * in long transactions): a client-side timeout would leave the query running on the server.
 *
 * @param options - See {@link PrismaHardeningOptions}.
 * @returns An extension for `prisma.$extends(...)`.
 * @example
 * ```ts
 * import { PrismaClient } from './generated/client.js';
 * import { PrismaPg } from '@prisma/adapter-pg';
 * import { prismaHardening } from '@hardening/core/prisma';
 *
 * const adapter = new PrismaPg({ connectionString: process.env.DATABASE_URL, statement_timeout: 5000 });
 * const prisma = new PrismaClient({ adapter }).$extends(prismaHardening());
 * ```
 */
export function prismaHardening(options: PrismaHardeningOptions = {}) {
  const name = options.name ?? 'database';
  const logger = options.logger ?? consoleLogger({ component: 'prisma' });
  const slowQueryMs = options.slowQueryMs ?? 5000;
  const attempts = options.attempts ?? 3;
  const safeCall = options.safeCall ?? createSafeCall({ logger });
  safeCall.configure(name, {
    attempts,
    timeoutMs: Infinity,
    backoff: { initialDelayMs: options.initialDelayMs ?? 100, factor: 2, maxDelayMs: 5000 },
    slowCallThresholdMs: Infinity, // logged below, with the model and operation
    breaker: { failureThreshold: 5, cooldownMs: 30_000, ...options.breaker },
  });

  const timed = async (label: string, run: () => Promise<unknown>): Promise<unknown> => {
    const started = performance.now();
    try {
      return await run();
    } finally {
      const durationMs = performance.now() - started;
      if (durationMs >= slowQueryMs) logger.warn({ query: label, durationMs: Math.round(durationMs), thresholdMs: slowQueryMs }, 'slow database query');
    }
  };

  return {
    name: '@hardening/core/prisma',
    query: {
      async $allOperations({ model, operation, args, query, __internalParams }: QueryCallbackArgs): Promise<unknown> {
        const label = model === undefined ? operation : `${model}.${operation}`;
        if (__internalParams?.transaction !== undefined) return timed(label, () => query(args));
        const isRead = model !== undefined && readOperations.has(operation);
        return safeCall(name, () => timed(label, () => query(args)), {
          retryable: (error) => (isRead ? isTransientPrismaError(error) : writeNeverApplied(error)),
        });
      },
    },
  };
}

/**
 * Sets the statement timeout for the rest of an interactive transaction (`SET LOCAL`), e.g.
 * 30 s for message-processing transactions when the pool's default is 5 s.
 *
 * @param tx - The transaction client.
 * @param ms - The timeout.
 * @returns When set.
 * @throws TypeError when `ms` is not a positive integer.
 * @example
 * ```ts
 * await prisma.$transaction(async (tx) => {
 *   await setLocalStatementTimeout(tx, 30_000);
 *   // ... long work ...
 * });
 * ```
 */
export async function setLocalStatementTimeout(tx: { $executeRawUnsafe(sql: string): Promise<unknown> }, ms: number): Promise<void> {
  if (!Number.isInteger(ms) || ms <= 0) throw new TypeError(`Expected \`ms\` to be a positive integer, got ${String(ms)}.`);
  await tx.$executeRawUnsafe(`SET LOCAL statement_timeout = ${ms}`);
}
