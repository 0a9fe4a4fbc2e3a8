// A fresh data folder starts from the migrated template the first fresh start kept
// (src/db/pglite-template.ts `openPglite`): initdb is most of `pnpm start` on a clean clone.
// Real PGlite folders on disk; the template cache is a temporary folder of this file.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@hardening/core';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate, pendingMigrations, readMigrations } from '../../src/db/migrator.js';
import { openPglite } from '../../src/db/pglite-template.js';
import { pgliteSession } from '../../src/db/sql-session.js';

// Each fresh folder runs initdb inside WebAssembly: 20 s and more on a loaded 2-core machine.
const budget = 180_000;

function recordingLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  const record = (_obj: object, msg?: string) => void lines.push(msg ?? '');
  return { lines, debug: record, info: record, warn: record, error: record };
}

describe('PGlite folder template', () => {
  const root = mkdtempSync(join(tmpdir(), 'pglite-folder-template-'));
  const cacheDir = join(root, 'cache');
  const folder = (name: string) => {
    const dir = join(root, name);
    mkdirSync(dir);
    return dir;
  };
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  /** Opens a new folder and does what openDatabase does after: migrate, then afterMigrate. */
  const openMigrated = async (name: string, logger: Logger) => {
    const opened = await openPglite(folder(name), logger, cacheDir);
    await migrate(pgliteSession(opened.pglite), logger);
    await opened.afterMigrate();
    return opened.pglite;
  };

  it(
    'keeps the first fresh folder as the template, starts the next fresh folder from it, and leaves a used folder alone',
    async () => {
      const logger = recordingLogger();
      const first = await openMigrated('first', logger);
      await first.query(`INSERT INTO "clients" ("id", "phone") VALUES ('c1', '+15550000042')`);
      await first.close();
      expect(readdirSync(cacheDir)).toHaveLength(1);
      expect(logger.lines).toContain('kept the migrated database as the template of the next fresh one');

      const second = await openPglite(folder('second'), logger, cacheDir);
      try {
        expect(logger.lines).toContain('new database started from the migrated template');
        // Migrated before the migrator ran: it came from the template.
        expect(await pendingMigrations(pgliteSession(second.pglite))).toEqual([]);
        expect((await second.pglite.query<{ name: string }>('SELECT "name" FROM "_app_migrations" ORDER BY "name"')).rows).toEqual(
          readMigrations().map(({ name }) => ({ name })),
        );
        // The first folder's later data is its own.
        expect((await second.pglite.query<{ n: number }>('SELECT count(*)::int AS n FROM "clients"')).rows).toEqual([{ n: 0 }]);
      } finally {
        await second.pglite.close();
      }

      // Reopening a folder that holds a database never touches it or the cache.
      const lines = logger.lines.length;
      const again = await openPglite(join(root, 'first'), logger, cacheDir);
      await again.afterMigrate();
      expect((await again.pglite.query<{ n: number }>('SELECT count(*)::int AS n FROM "clients"')).rows).toEqual([{ n: 1 }]);
      await again.pglite.close();
      expect(logger.lines.slice(lines)).toEqual([]);
    },
    budget,
  );

  it(
    'deletes a template that does not load and makes the folder from scratch',
    async () => {
      const logger = recordingLogger();
      await (await openMigrated('seed', logger)).close();
      const [template] = readdirSync(cacheDir);
      writeFileSync(join(cacheDir, template!), 'not a tar file');

      const opened = await openPglite(folder('after-bad-template'), logger, cacheDir);
      try {
        expect(logger.lines).toContain('template did not load; deleted, making the database from scratch');
        expect(readdirSync(cacheDir)).toEqual([]);
        expect(await pendingMigrations(pgliteSession(opened.pglite))).toEqual(readMigrations().map(({ name }) => name));
      } finally {
        await opened.pglite.close();
      }
    },
    budget,
  );
});
