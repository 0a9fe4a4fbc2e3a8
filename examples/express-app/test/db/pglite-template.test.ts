// The migrated template in-memory databases start from (src/db/pglite-template.ts): a database
// opened from it is migrated, on its own (nothing shared with another opened from the same
// dump), and still checked by the migrator, so a template from other migrations is refused.
import { PGlite } from '@electric-sql/pglite';
import { afterEach, describe, expect, it } from 'vitest';
import { BreakerRegistry, createSafeCall, silentLogger } from '@hardening/core';
import { openDatabase, type Database } from '../../src/db/database.js';
import { MigrationChangedError, migrate, pendingMigrations, readMigrations } from '../../src/db/migrator.js';
import { templateFor, useMemoryTemplate } from '../../src/db/pglite-template.js';
import { pgliteSession } from '../../src/db/sql-session.js';

const open = () =>
  openDatabase({ pgliteDir: 'memory://', logger: silentLogger, safeCall: createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger }) });

describe('PGlite memory template', () => {
  const opened: Database[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.close()));
  });

  it('the suite set one (test/setup/pglite-template.ts), for memory:// only', () => {
    expect(templateFor('memory://')).toBeInstanceOf(Blob);
    expect(templateFor('/tmp/some-folder')).toBeUndefined();
  });

  it('a database opened from it has every migration applied, and its data is its own', async () => {
    const a = await open();
    const b = await open();
    opened.push(a, b);
    for (const db of [a, b]) {
      const session = await db.session();
      expect(await pendingMigrations(session)).toEqual([]);
      expect(await session.query<{ name: string }>('SELECT "name" FROM "_app_migrations" ORDER BY "name"')).toEqual(
        readMigrations().map(({ name }) => ({ name })),
      );
    }
    await a.prisma.client.create({ data: { phone: '+15550000042' } });
    expect(await a.prisma.client.count()).toBe(1);
    expect(await b.prisma.client.count()).toBe(0);
  });

  it('a newer migration than the template is applied on open', async () => {
    const older = readMigrations().slice(0, -1);
    const pglite = await PGlite.create('memory://');
    await migrate(pgliteSession(pglite), silentLogger, older);
    const dump = await pglite.dumpDataDir('none');
    await pglite.close();
    const previous = templateFor('memory://');
    useMemoryTemplate(dump);
    try {
      const db = await open();
      opened.push(db);
      const session = await db.session();
      expect(await pendingMigrations(session)).toEqual([]);
    } finally {
      useMemoryTemplate(previous);
    }
    // The one test here that runs initdb and the migrations itself (WebAssembly): ~1.5 s on a
    // quiet machine, 67 s with two test files at once and a load average near 20. A hang still fails.
  }, 120_000);

  it('a template whose applied migration differs from the file is refused (MigrationChangedError)', async () => {
    const pglite = await PGlite.create('memory://', { loadDataDir: templateFor('memory://')! });
    const first = readMigrations()[0]!.name;
    await pglite.query(`UPDATE "_app_migrations" SET "checksum" = 'edited' WHERE "name" = $1`, [first]);
    const dump = await pglite.dumpDataDir('none');
    await pglite.close();
    const previous = templateFor('memory://');
    useMemoryTemplate(dump);
    try {
      await expect(open()).rejects.toBeInstanceOf(MigrationChangedError);
    } finally {
      useMemoryTemplate(previous);
    }
  });
});
