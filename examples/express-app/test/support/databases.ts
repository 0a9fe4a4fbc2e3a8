// The app's database on each backend it supports, freshly migrated, for tests.
import { inject } from 'vitest';
import { createSafeCall, silentLogger, BreakerRegistry } from '@hardening/core';
import { createTestDatabase, type TestDatabase } from '@hardening/test-support';
import { openDatabase, type Database } from '../../src/db/database.js';

export type Backend = 'pglite' | 'postgres';

/**
 * A PostgreSQL database of the test's own, already migrated: a copy of the database the global
 * setup migrated (test/global-setup.ts), as in-memory PGlite databases start from a migrated
 * dump. Copying took about 0.1 s where the migrations took 0.3-0.7 s on each new database.
 * The app's migrator still runs when the app opens it and checks every applied migration's
 * checksum. A test about the migrations themselves creates an empty database instead
 * (`createTestDatabase` without a template).
 *
 * @param label - names the database (see `createTestDatabase`).
 * @returns the database; `drop()` deletes it.
 */
export function migratedPostgresDatabase(label: string): Promise<TestDatabase> {
  return createTestDatabase(label, { template: inject('postgresTemplate') ?? undefined });
}

/** Opens a fresh, migrated database on `backend`; `close` also drops it. */
export async function freshDatabase(backend: Backend, label: string): Promise<Database & { url?: string }> {
  const safeCall = createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger });
  if (backend === 'pglite') {
    return openDatabase({ pgliteDir: 'memory://', logger: silentLogger, safeCall });
  }
  const created = await migratedPostgresDatabase(label);
  const db = await openDatabase({ databaseUrl: created.url, logger: silentLogger, safeCall });
  return {
    ...db,
    url: created.url,
    close: async () => {
      await db.close();
      await created.drop();
    },
  };
}
