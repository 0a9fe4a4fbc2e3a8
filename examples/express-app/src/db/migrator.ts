import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { Logger } from '@hardening/core';
import type { SqlSession } from './sql-session.js';

/** Where the migrations live, in Prisma's folder layout (`<timestamp>_<name>/migration.sql`). */
export const migrationsDir = new URL('../../prisma/migrations/', import.meta.url);

/** A migration file. */
export interface Migration {
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

/** Thrown when an applied migration's file changed since: the schema may have drifted. */
export class MigrationChangedError extends Error {
  constructor(readonly migration: string) {
    super(`Migration ${migration} was applied, then its file changed: write a new migration instead of editing an applied one.`);
    this.name = 'MigrationChangedError';
  }
}

// Arbitrary, fixed: every instance of the app takes the same lock, so instances starting
// together apply each migration once, one after the other.
const lockId = 727_001;

/** Every migration on disk, in order. */
export function readMigrations(dir: URL = migrationsDir): Migration[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && /^\d{14}_[a-z0-9_]+$/.test(entry.name))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(new URL(`${name}/migration.sql`, dir), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

const ledger = `CREATE TABLE IF NOT EXISTS "_app_migrations" (
  "name" TEXT PRIMARY KEY,
  "checksum" TEXT NOT NULL,
  "applied_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
)`;

/**
 * Applies the migrations not applied yet, each in its own transaction together with its
 * ledger row, under an advisory lock; refuses to start when an applied migration's file
 * changed.
 *
 * @returns The names applied now.
 */
export async function migrate(session: SqlSession, logger: Logger, migrations: Migration[] = readMigrations()): Promise<string[]> {
  // The lock first: CREATE TABLE IF NOT EXISTS is not safe against a concurrent twin (two
  // instances starting on a fresh database collide on pg_type's unique index).
  await session.query('SELECT pg_advisory_lock($1)', [lockId]);
  try {
    await session.exec(ledger);
    const rows = await session.query<{ name: string; checksum: string }>('SELECT "name", "checksum" FROM "_app_migrations"');
    const applied = new Map(rows.map((row) => [row.name, row.checksum]));
    const done: string[] = [];
    for (const migration of migrations) {
      const checksum = applied.get(migration.name);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) throw new MigrationChangedError(migration.name);
        continue;
      }
      // Names match /^\d{14}_[a-z0-9_]+$/ and checksums are hex: safe to inline.
      await session
        .exec(`BEGIN;\n${migration.sql}\nINSERT INTO "_app_migrations" ("name", "checksum") VALUES ('${migration.name}', '${migration.checksum}');\nCOMMIT;`)
        .catch(async (error: unknown) => {
          await session.exec('ROLLBACK').catch(() => {});
          throw error;
        });
      logger.info({ migration: migration.name }, 'migration applied');
      done.push(migration.name);
    }
    return done;
  } finally {
    await session.query('SELECT pg_advisory_unlock($1)', [lockId]).catch(() => {});
  }
}

/**
 * Migrations on disk that the database has not applied (for `pnpm doctor` and health).
 *
 * @returns Their names; empty when up to date.
 */
export async function pendingMigrations(session: SqlSession, migrations: Migration[] = readMigrations()): Promise<string[]> {
  const exists = await session.query<{ present: boolean }>(`SELECT to_regclass('"_app_migrations"') IS NOT NULL AS present`);
  if (!exists[0]?.present) return migrations.map((m) => m.name);
  const rows = await session.query<{ name: string }>('SELECT "name" FROM "_app_migrations"');
  const applied = new Set(rows.map((row) => row.name));
  return migrations.filter((m) => !applied.has(m.name)).map((m) => m.name);
}
