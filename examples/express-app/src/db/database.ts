import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { Logger, SafeCall } from '@hardening/core';
import { prismaHardening } from '@hardening/core/prisma';
import { PrismaClient } from './generated/client.js';
import { migrate } from './migrator.js';
import type { SqlSession } from './sql-session.js';
import { pgliteSession, postgresSession } from './sql-session.js';

/** How to reach the database. */
export interface DatabaseOptions {
  /** PostgreSQL URL; without it the app runs on an embedded PGlite database. */
  readonly databaseUrl?: string;
  /** PGlite's data folder (`memory://` for a throwaway database). */
  readonly pgliteDir?: string;
  /** Default statement timeout of every query. */
  readonly statementTimeoutMs?: number;
  /** Connections in the PostgreSQL pool. */
  readonly poolSize?: number;
  readonly logger: Logger;
  /** The safeCall instance whose registry holds the `database` breaker. */
  readonly safeCall: SafeCall;
  /** Apply pending migrations before returning (default true). */
  readonly migrate?: boolean;
}

/** The app's Prisma client: the generated client with the hardening extension. */
export type Db = ReturnType<typeof harden>;

/** An open database. */
export interface Database {
  readonly prisma: Db;
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
  if (options.databaseUrl !== undefined) {
    const connectionString = options.databaseUrl;
    const adapter = new PrismaPg({
      connectionString,
      statement_timeout: statementTimeoutMs,
      connectionTimeoutMillis: 5000,
      max: options.poolSize ?? 10,
    });
    const prisma = harden(new PrismaClient({ adapter }), options);
    database = {
      prisma,
      kind: 'postgres',
      session: () => postgresSession(connectionString),
      ping: () => ping(prisma),
      close: () => prisma.$disconnect(),
    };
  } else {
    const dir = options.pgliteDir ?? '.data/pglite';
    if (!dir.includes('://')) mkdirSync(dir, { recursive: true });
    const pglite = await PGlite.create(dir);
    // PGlite runs one session in-process; a statement timeout there is advisory only.
    await pglite.exec(`SET statement_timeout = ${Math.floor(statementTimeoutMs)}`);
    const prisma = harden(new PrismaClient({ adapter: new PrismaPGlite(pglite) }), options);
    database = {
      prisma,
      kind: 'pglite',
      session: async () => pgliteSession(pglite),
      ping: () => ping(prisma),
      close: async () => {
        await prisma.$disconnect();
        await pglite.close();
      },
    };
  }
  if (options.migrate !== false) {
    const session = await database.session();
    try {
      await migrate(session, options.logger);
    } finally {
      await session.end();
    }
  }
  return database;
}

async function ping(prisma: { $queryRawUnsafe(sql: string): Promise<unknown> }): Promise<number> {
  const started = performance.now();
  await prisma.$queryRawUnsafe('SELECT 1');
  return performance.now() - started;
}
