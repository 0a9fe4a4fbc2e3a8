// The app's database on each backend it supports, freshly migrated, for tests.
import { createSafeCall, silentLogger, BreakerRegistry } from '@hardening/core';
import { createTestDatabase } from '@hardening/test-support';
import { openDatabase, type Database } from '../../src/db/database.js';

export type Backend = 'pglite' | 'postgres';

/** Opens a fresh, migrated database on `backend`; `close` also drops it. */
export async function freshDatabase(backend: Backend, label: string): Promise<Database & { url?: string }> {
  const safeCall = createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger });
  if (backend === 'pglite') {
    return openDatabase({ pgliteDir: 'memory://', logger: silentLogger, safeCall });
  }
  const created = await createTestDatabase(label);
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
