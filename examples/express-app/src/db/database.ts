import { mkdirSync } from 'node:fs';
import type { Logger, SafeCall } from '@hardening/core';
import { prismaHardening } from '@hardening/core/prisma';
import { PrismaClient } from './generated/client.js';
import { migrate, MigrationChangedError } from './migrator.js';
import { openPglite } from './pglite-template.js';
import type { SqlSession } from './sql-session.js';
import { pgliteSession, postgresSession } from './sql-session.js';
import { pgliteRunner, poolRunner, type StatementRunner } from './statement-runner.js';

/** How to reach the database. */
export interface DatabaseOptions {
  /** PostgreSQL URL; without it the app runs on an embedded PGlite database. */
  readonly databaseUrl?: string | undefined;
  /** PGlite's data folder (`memory://` for a throwaway database). */
  readonly pgliteDir?: string | undefined;
  /** Default statement timeout of every query. */
  readonly statementTimeoutMs?: number | undefined;
  /** Connections in the PostgreSQL pool. */
  readonly poolSize?: number | undefined;
  readonly logger: Logger;
  /** The safeCall instance whose registry holds the `database` breaker. */
  readonly safeCall: SafeCall;
  /** Apply pending migrations before returning (default true). */
  readonly migrate?: boolean | undefined;
  /**
   * How long start-up waits for PostgreSQL to answer (connect and migrate, retried with
   * backoff) before it gives up. A database that hangs or restarts while an instance starts
   * is an outage to ride out, not a crash: readiness stays 503 meanwhile.
   * @default 120_000
   */
  readonly startupWaitMs?: number | undefined;
}

/** The app's Prisma client: the generated client with the hardening extension. */
export type Db = ReturnType<typeof harden>;

/** An open database. */
export interface Database {
  readonly prisma: Db;
  /** The SMS hot path's hand-written statements (inbound-statements.ts), on the same database. */
  readonly sql: StatementRunner;
  readonly kind: 'postgres' | 'pglite';
  /** A session for migrations and checks Prisma cannot run. */
  session(): Promise<SqlSession>;
  /** A cheap liveness query with its latency, for health checks. */
  ping(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The `database` breaker. It protects the pool from piling up on a dead server, not a
 * provider from us, so it probes again after 2 s (the default 30 s kept the app degraded
 * ~20 s after a 15 s PostgreSQL hang ended): a probe is one query, and every instance's
 * webhooks are waiting on it. A probe may take the statement timeout plus the connect
 * timeout (5 s each) before it counts as hung.
 */
export const databaseBreaker = { failureThreshold: 5, cooldownMs: 2000, maxHalfOpenWaitMs: 11_000 } as const;

function harden(client: PrismaClient, options: DatabaseOptions) {
  // Retries (never inside transactions), a breaker after 5 consecutive failures, and a
  // slow-query log from 5 s: see @hardening/core/prisma.
  return client.$extends(prismaHardening({ logger: options.logger, safeCall: options.safeCall, breaker: databaseBreaker, slowQueryMs: 5000 }));
}

/**
 * Opens the database: PostgreSQL through `@prisma/adapter-pg` when `databaseUrl` is set
 * (every query under `statement_timeout`, 5 s by default), otherwise PGlite in a local
 * folder through `pglite-prisma-adapter`. Applies pending migrations.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const statementTimeoutMs = options.statementTimeoutMs ?? 5000;
  let database: Database;
  let afterPgliteMigrate = async (): Promise<void> => {};
  if (options.databaseUrl !== undefined) {
    const connectionString = options.databaseUrl;
    // Each backend's driver is imported only when used: PGlite (WebAssembly) is not loaded on
    // PostgreSQL, node-postgres not on PGlite (module loading is most of a start, issue 13).
    const [{ PrismaPg }, { default: pg }] = await Promise.all([import('@prisma/adapter-pg'), import('pg')]);
    // One pool for Prisma and the hot path's statements (statement-runner.ts): the same
    // connections, limits and timeouts.
    const pool = new pg.Pool({ connectionString, statement_timeout: statementTimeoutMs, connectionTimeoutMillis: 5000, max: options.poolSize ?? 10 });
    // An idle connection the server dropped (a restart) is replaced on the next checkout;
    // without a listener its error would end the process.
    pool.on('error', (error) => options.logger.warn({ err: error.message }, 'idle database connection lost'));
    const adapter = new PrismaPg(pool);
    const prisma = harden(new PrismaClient({ adapter }), options);
    database = {
      prisma,
      sql: poolRunner(pool),
      kind: 'postgres',
      session: () => postgresSession(connectionString),
      ping: () => ping(prisma),
      close: async () => {
        await prisma.$disconnect();
        await pool.end();
      },
    };
  } else {
    const dir = options.pgliteDir ?? '.data/pglite';
    if (!dir.includes('://')) mkdirSync(dir, { recursive: true });
    // A fresh database may start from a migrated template (the suite's for `memory://`, the
    // first start's for an empty folder: see pglite-template.ts).
    const [{ pglite, afterMigrate }, { PrismaPGlite }] = await Promise.all([openPglite(dir, options.logger), import('pglite-prisma-adapter')]);
    afterPgliteMigrate = afterMigrate;
    // PGlite runs one session in-process; a statement timeout there is advisory only.
    await pglite.exec(`SET statement_timeout = ${Math.floor(statementTimeoutMs)}`);
    const prisma = harden(new PrismaClient({ adapter: new PrismaPGlite(pglite) }), options);
    database = {
      prisma,
      sql: pgliteRunner(pglite),
      kind: 'pglite',
      session: () => Promise.resolve(pgliteSession(pglite)),
      ping: () => ping(prisma),
      close: async () => {
        await prisma.$disconnect();
        await pglite.close();
      },
    };
  }
  if (options.migrate !== false) {
    await untilAnswered(options.logger, options.startupWaitMs ?? 120_000, async () => {
      const session = await database.session();
      try {
        await migrate(session, options.logger);
      } finally {
        await session.end().catch(() => {});
      }
    });
    await afterPgliteMigrate();
  }
  return database;
}

/**
 * Runs `work` (connect and migrate) until it succeeds, retrying failures to reach the
 * database with backoff (1 s, doubling, at most 5 s) for `waitMs`. An error PostgreSQL
 * answered with (a SQLSTATE outside connection, resource and shutdown classes: a migration
 * that fails, a changed migration) is thrown at once: waiting would not fix it.
 */
async function untilAnswered(logger: Logger, waitMs: number, work: () => Promise<void>): Promise<void> {
  const until = Date.now() + waitMs;
  for (let attempt = 1, delay = 1000; ; attempt++, delay = Math.min(5000, delay * 2)) {
    try {
      await work();
      if (attempt > 1) logger.info({ attempt }, 'database answered; start-up goes on');
      return;
    } catch (error) {
      if (!unreachable(error) || Date.now() + delay > until) throw error;
      logger.warn(
        { attempt, retryInMs: delay, err: error instanceof Error ? error.message : String(error) },
        'database not answering at start-up; waiting for it (readiness stays 503)',
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** Whether `error` means the database could not be reached (rather than that it refused the work). */
function unreachable(error: unknown): boolean {
  if (error instanceof MigrationChangedError) return false;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  // SQLSTATE classes 08 (connection), 53 (resources), 57 (shutdown, cancel): the server is
  // going away or coming back. Anything else PostgreSQL said is about the work itself.
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return /^(08|53|57)/.test(code);
  return true; // no SQLSTATE: a timeout, a refused or reset connection
}

async function ping(prisma: { $queryRawUnsafe(sql: string): Promise<unknown> }): Promise<number> {
  const started = performance.now();
  await prisma.$queryRawUnsafe('SELECT 1');
  return performance.now() - started;
}
