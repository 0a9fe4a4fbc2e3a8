import { IdempotencyInProgressError } from './errors/idempotency-in-progress-error.js';
import { IdempotencyStoreError } from './errors/idempotency-store-error.js';
import type { ClaimOutcome, ClaimRequest, CompleteRequest, IdempotencyStore } from './store.js';

/**
 * The slice of a Prisma 7 client the store uses: a `PrismaClient` or the transaction
 * client `tx` of `prisma.$transaction(async (tx) => ...)`. `@prisma/client` is an optional
 * peer dependency: pass your own client (with any driver adapter: `@prisma/adapter-pg`,
 * `pglite-prisma-adapter`, ...).
 */
export interface PrismaRawClient {
  /** Runs a parameterised query and returns its rows: the claim. */
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
  /** Runs a parameterised statement and returns the rows it changed: complete, release, cleanup. */
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
}

/**
 * Options for {@link createPrismaStore}.
 *
 * @example
 * ```ts
 * import { PrismaPg } from '@prisma/adapter-pg';
 * import { PrismaClient } from './generated/prisma/client.js';
 * import { createPrismaStore } from '@hardening/idempotency';
 * const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL! }) });
 * const store = createPrismaStore({ prisma, lockTimeoutMs: 3000 });
 * ```
 */
export interface PrismaStoreOptions {
  /** Your `PrismaClient`. */
  readonly prisma: PrismaRawClient;
  /**
   * The table, optionally schema-qualified (`'billing.idempotency_records'`): letters,
   * digits and underscores only.
   * @default 'idempotency_records'
   */
  readonly table?: string | undefined;
  /**
   * Inside a transaction ({@link PrismaIdempotencyStore.withTransaction}) a concurrent
   * duplicate's claim waits on the first transaction's row lock; this bounds the wait
   * (`SET LOCAL lock_timeout`), after which the claim throws
   * {@link IdempotencyInProgressError}.
   * @default 5000
   */
  readonly lockTimeoutMs?: number | undefined;
}

interface ClaimRow {
  claimed: boolean;
  status: string;
  fingerprint: string;
  result: string | null;
  remaining_ms: number | string | null;
}

const defaults = { table: 'idempotency_records', lockTimeoutMs: 5000, claimAttempts: 5 };

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

function quoteTable(table: string): string {
  const parts = table.split('.');
  if (parts.length > 2 || !parts.every((part) => identifier.test(part))) {
    throw new TypeError(`Expected \`table\` to be a table name like 'idempotency_records' or 'schema.table', got ${JSON.stringify(table)}.`);
  }
  return parts.map((part) => `"${part}"`).join('.');
}

function sqlFor(table: string) {
  // Times come from the database's clock (clock_timestamp(), not now(), which stands
  // still inside a transaction), so app servers with skewed clocks agree on leases.
  const msFromNow = (param: string) => `clock_timestamp() + (${param}::double precision * interval '1 millisecond')`;
  return {
    // One statement: insert, or take over a record whose lease or retention has ended; if
    // neither happened, read the live record. A row committed by a concurrent claim after
    // this statement's snapshot can make it return nothing: the caller runs it again.
    claim: `WITH claimed AS (
  INSERT INTO ${table} AS r ("key", "status", "token", "fingerprint", "result", "expires_at", "created_at", "completed_at")
  VALUES ($1, 'IN_PROGRESS', $2, $3, NULL, ${msFromNow('$4')}, clock_timestamp(), NULL)
  ON CONFLICT ("key") DO UPDATE SET "status" = 'IN_PROGRESS', "token" = EXCLUDED."token", "fingerprint" = EXCLUDED."fingerprint",
    "result" = NULL, "expires_at" = EXCLUDED."expires_at", "created_at" = EXCLUDED."created_at", "completed_at" = NULL
  WHERE r."expires_at" <= clock_timestamp()
  RETURNING true AS claimed, r."status", r."fingerprint", r."result", 0::double precision AS remaining_ms
)
SELECT claimed, status, fingerprint, result, remaining_ms FROM claimed
UNION ALL
SELECT false, "status", "fingerprint", "result", EXTRACT(EPOCH FROM ("expires_at" - clock_timestamp()))::double precision * 1000
FROM ${table} WHERE "key" = $1 AND NOT EXISTS (SELECT 1 FROM claimed)`,
    complete: `UPDATE ${table} SET "status" = 'COMPLETED', "result" = $3, "expires_at" = ${msFromNow('$4')}, "completed_at" = clock_timestamp()
WHERE "key" = $1 AND "token" = $2 AND "status" = 'IN_PROGRESS'`,
    release: `DELETE FROM ${table} WHERE "key" = $1 AND "token" = $2 AND "status" = 'IN_PROGRESS'`,
    cleanup: `DELETE FROM ${table} WHERE "expires_at" <= clock_timestamp()`,
    setLockTimeout: `SELECT current_setting('lock_timeout') AS previous, set_config('lock_timeout', $1, true) AS current`,
    restoreLockTimeout: `SELECT set_config('lock_timeout', $1, true) AS current`,
  };
}

type Sql = ReturnType<typeof sqlFor>;

/** PostgreSQL's SQLSTATE for a lock wait that hit `lock_timeout`. */
const lockNotAvailable = '55P03';
/** PostgreSQL's SQLSTATE for a statement sent to a transaction that already failed. */
const transactionAborted = '25P02';

function hasSqlState(error: unknown, state: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as {
    code?: unknown;
    meta?: { code?: unknown; driverAdapterError?: { cause?: { originalCode?: unknown; code?: unknown } } };
    message?: unknown;
  };
  const cause = e.meta?.driverAdapterError?.cause;
  return (
    e.code === state ||
    e.meta?.code === state ||
    cause?.originalCode === state ||
    cause?.code === state ||
    (typeof e.message === 'string' && e.message.includes(state))
  );
}

/**
 * An {@link IdempotencyStore} on PostgreSQL through Prisma 7 (raw SQL on your
 * `PrismaClient`, so it works with any driver adapter, PGlite included).
 *
 * - Claim is one `INSERT ... ON CONFLICT ... RETURNING` statement; complete and release
 *   are one `UPDATE`/`DELETE` each, matching the claim token.
 * - Durable: completed keys survive restarts. Expired rows stay until {@link PrismaIdempotencyStore.cleanup}
 *   runs (schedule it with {@link scheduleCleanup}); they never block a claim meanwhile.
 * - {@link PrismaIdempotencyStore.withTransaction} binds the store to your interactive
 *   transaction, so the record and your business rows commit or roll back together.
 *
 * @example
 * ```ts
 * const store = createPrismaStore({ prisma });
 * const guard = createIdempotencyGuard({ store });
 * await guard.run(event.id, () => fulfil(event));
 * ```
 */
export class PrismaIdempotencyStore implements IdempotencyStore {
  private readonly client: PrismaRawClient;
  private readonly sql: Sql;
  private readonly lockTimeoutMs: number;
  private readonly inTransaction: boolean;
  /** The quoted table name. */
  readonly table: string;

  /**
   * @param options - See {@link PrismaStoreOptions}.
   * @throws TypeError when `prisma` is missing or an option is invalid.
   */
  constructor(options: PrismaStoreOptions);
  /** @internal */
  constructor(options: PrismaStoreOptions, transaction: { client: PrismaRawClient; table: string; sql: Sql });
  constructor(options: PrismaStoreOptions, transaction?: { client: PrismaRawClient; table: string; sql: Sql }) {
    const prisma = options?.prisma as Partial<PrismaRawClient> | undefined;
    if (prisma === undefined || prisma === null || typeof prisma.$queryRawUnsafe !== 'function' || typeof prisma.$executeRawUnsafe !== 'function') {
      throw new TypeError('Expected `prisma` to be a PrismaClient (with $queryRawUnsafe and $executeRawUnsafe).');
    }
    const { lockTimeoutMs = defaults.lockTimeoutMs } = options;
    if (!Number.isInteger(lockTimeoutMs) || lockTimeoutMs < 1) {
      throw new TypeError(`Expected \`lockTimeoutMs\` to be a positive integer, got ${String(lockTimeoutMs)}.`);
    }
    this.lockTimeoutMs = lockTimeoutMs;
    if (transaction === undefined) {
      this.table = quoteTable(options.table ?? defaults.table);
      this.sql = sqlFor(this.table);
      this.client = options.prisma;
      this.inTransaction = false;
    } else {
      this.table = transaction.table;
      this.sql = transaction.sql;
      this.client = transaction.client;
      this.inTransaction = true;
    }
  }

  /**
   * The same store bound to an interactive transaction: claim, complete and release run on
   * `tx`, so the record commits or rolls back with your business rows. There a concurrent
   * duplicate's claim does not see IN_PROGRESS: it waits on the first transaction's row
   * lock, then sees COMPLETED (commit: the stored result is replayed) or a free key
   * (rollback: it runs). The wait is bounded by `lockTimeoutMs`, after which the claim
   * throws {@link IdempotencyInProgressError} and your transaction must roll back.
   *
   * @param tx - The `tx` client of `prisma.$transaction(async (tx) => ...)`.
   * @returns A store for that transaction only.
   * @example
   * ```ts
   * await prisma.$transaction(async (tx) => {
   *   const guard = createIdempotencyGuard({ store: store.withTransaction(tx) });
   *   await guard.run(event.id, () => tx.order.create({ data: { stripeEventId: event.id } }));
   * });
   * ```
   */
  withTransaction(tx: PrismaRawClient): PrismaIdempotencyStore {
    return new PrismaIdempotencyStore({ prisma: tx, lockTimeoutMs: this.lockTimeoutMs }, { client: tx, table: this.table, sql: this.sql });
  }

  /** {@inheritDoc IdempotencyStore.claim} */
  async claim(request: ClaimRequest): Promise<ClaimOutcome> {
    let previousLockTimeout: string | undefined;
    if (this.inTransaction) {
      const rows = await this.client.$queryRawUnsafe<{ previous: string }[]>(this.sql.setLockTimeout, `${this.lockTimeoutMs}ms`);
      previousLockTimeout = rows[0]?.previous;
    }
    try {
      for (let attempt = 1; attempt <= defaults.claimAttempts; attempt++) {
        const rows = await this.client.$queryRawUnsafe<ClaimRow[]>(this.sql.claim, request.key, request.token, request.fingerprint, request.leaseMs);
        const row = rows[0];
        if (row === undefined) continue;
        if (row.claimed) return { status: 'claimed' };
        if (row.status === 'COMPLETED') return { status: 'completed', fingerprint: row.fingerprint, result: row.result ?? '' };
        const remaining = Number(row.remaining_ms);
        return {
          status: 'in-progress',
          fingerprint: row.fingerprint,
          leaseRemainingMs: Number.isFinite(remaining) ? Math.max(0, Math.ceil(remaining)) : undefined,
        };
      }
      throw new Error(`claim of an idempotency key found no record after ${defaults.claimAttempts} attempts`);
    } catch (error) {
      if (this.inTransaction && hasSqlState(error, lockNotAvailable)) {
        throw new IdempotencyInProgressError(this.lockTimeoutMs, undefined, { cause: error });
      }
      throw error;
    } finally {
      if (previousLockTimeout !== undefined) {
        await this.client.$queryRawUnsafe(this.sql.restoreLockTimeout, previousLockTimeout).then(undefined, () => {
          // The transaction failed (lock timeout): it can only roll back, which undoes SET LOCAL anyway.
        });
      }
    }
  }

  /** {@inheritDoc IdempotencyStore.complete} */
  async complete(request: CompleteRequest): Promise<boolean> {
    try {
      const count = await this.client.$executeRawUnsafe(this.sql.complete, request.key, request.token, request.result, request.retentionMs);
      return count === 1;
    } catch (error) {
      // Inside a transaction a failed statement fails the transaction: no retry can help,
      // and the rollback undoes the function's writes with the claim.
      if (this.inTransaction) throw new IdempotencyStoreError('complete', error, false);
      throw error;
    }
  }

  /** {@inheritDoc IdempotencyStore.release} */
  async release(key: string, token: string): Promise<boolean> {
    try {
      return (await this.client.$executeRawUnsafe(this.sql.release, key, token)) === 1;
    } catch (error) {
      // Inside a transaction that already failed (the protected function's own query
      // threw), nothing more can run; the rollback removes the claim with everything else.
      if (this.inTransaction && hasSqlState(error, transactionAborted)) return true;
      throw error;
    }
  }

  /**
   * Deletes records whose lease or retention has ended.
   * @returns How many rows were deleted.
   */
  async cleanup(): Promise<number> {
    return this.client.$executeRawUnsafe(this.sql.cleanup);
  }
}

/**
 * Creates a {@link PrismaIdempotencyStore}. Add the `IdempotencyRecord` model
 * (`prisma/idempotency.prisma` in this package) to your schema and apply the migration in
 * `prisma/migrations/` first.
 *
 * @param options - See {@link PrismaStoreOptions}.
 * @returns The store.
 * @throws TypeError when `prisma` is missing or an option is invalid.
 * @example
 * ```ts
 * import { PGlite } from '@electric-sql/pglite';
 * import { PrismaPGlite } from 'pglite-prisma-adapter';
 * import { PrismaClient } from './generated/prisma/client.js';
 * import { createIdempotencyGuard, createPrismaStore } from '@hardening/idempotency';
 * const prisma = new PrismaClient({ adapter: new PrismaPGlite(new PGlite('./.data/pglite')) });
 * const guard = createIdempotencyGuard({ store: createPrismaStore({ prisma }) });
 * ```
 */
export function createPrismaStore(options: PrismaStoreOptions): PrismaIdempotencyStore {
  return new PrismaIdempotencyStore(options);
}
