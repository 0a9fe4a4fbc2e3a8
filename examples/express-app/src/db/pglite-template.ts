// A migrated PGlite data folder that new in-memory databases start from.
//
// Why: `PGlite.create('memory://')` runs initdb inside WebAssembly, then the app applies its
// migrations: about 1.5 s on a quiet 2-core machine and 7-15 s under load, for every app a
// test starts (several hundred in the suite). Loading a dump of a folder that was already
// initialised and migrated (`PGlite.dumpDataDir` -> `loadDataDir`) skips both. The migrator
// still runs on every open and checks each applied migration's checksum against the files,
// so a template made from other migrations fails loudly (MigrationChangedError) instead of
// hiding drift; a template older than the files gets the new migrations applied.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import type { Logger } from '@hardening/core';
import { migrate, readMigrations } from './migrator.js';
import { pgliteSession } from './sql-session.js';

let memoryTemplate: Blob | undefined;

/**
 * Sets (or, with `undefined`, clears) the dump that every later `memory://` database of this
 * process starts from. Folders on disk never use it. The test suite sets it once per file from
 * a dump made by its global setup; production never does.
 *
 * @param dump - a `PGlite.dumpDataDir()` of a migrated database (see {@link dumpMigratedPglite}).
 * @example
 * useMemoryTemplate(await dumpMigratedPglite(silentLogger));
 * const db = await openDatabase({ pgliteDir: 'memory://', logger, safeCall }); // no initdb
 */
export function useMemoryTemplate(dump: Blob | undefined): void {
  memoryTemplate = dump;
}

/**
 * The dump a new PGlite database in `dir` starts from: the template for `memory://`, nothing
 * (initdb as usual) for a folder.
 *
 * @param dir - PGlite's data folder, or `memory://`.
 * @returns the dump to pass as `loadDataDir`, or `undefined`.
 * @example
 * const pglite = await PGlite.create(dir, { loadDataDir: templateFor(dir) });
 */
export function templateFor(dir: string): Blob | undefined {
  return dir === 'memory://' ? memoryTemplate : undefined;
}

/**
 * Makes a fresh in-memory PGlite database, applies every migration with the app's migrator and
 * returns a dump of its data folder (uncompressed: loading it is then a plain copy).
 *
 * @param logger - receives the migrator's "migration applied" lines.
 * @returns the dump, for {@link useMemoryTemplate}.
 * @example
 * await writeFile(path, Buffer.from(await (await dumpMigratedPglite(silentLogger)).arrayBuffer()));
 */
export async function dumpMigratedPglite(logger: Logger): Promise<Blob> {
  const { PGlite } = await import('@electric-sql/pglite');
  const pglite = await PGlite.create('memory://');
  try {
    await migrate(pgliteSession(pglite), logger);
    return await pglite.dumpDataDir('none');
  } finally {
    await pglite.close();
  }
}

// Where `pnpm start` keeps the migrated template of a fresh data folder. A cache folder under
// node_modules (the find-cache-dir convention): it outlives `rm -rf .data`, and a clean clone
// or reinstall starts without it.
const folderTemplateCache = fileURLToPath(new URL('../../node_modules/.cache/pglite-template/', import.meta.url));

/** A PGlite database on its folder, and what to do once the migrator has run on it. */
export interface OpenedPglite {
  readonly pglite: PGlite;
  /** Keeps a dump of a freshly made folder as the template of the next fresh folder; never throws. */
  readonly afterMigrate: () => Promise<void>;
}

/**
 * Opens PGlite in `dir` (a folder or `memory://`). A folder that is empty (a first start, or
 * after its data was deleted) starts from the migrated template the first fresh start left in
 * the cache, when its PGlite build and migrations match: initdb inside WebAssembly is most of
 * a first start (about 6 s quiet, over 20 s on a loaded 2-core machine; loading a dump is a
 * copy). The migrator still runs and checks every checksum after this. A template that does
 * not load is deleted and the folder made from scratch.
 *
 * @param dir - PGlite's data folder (created by the caller), or `memory://`.
 * @param logger - told when a template is used or kept.
 * @param cacheDir - where templates are kept (tests pass their own).
 * @returns the database, and `afterMigrate` to call once migrations have run.
 * @example
 * const { pglite, afterMigrate } = await openPglite('.data/pglite', logger);
 * await migrate(pgliteSession(pglite), logger);
 * await afterMigrate(); // a fresh folder's dump becomes the template of the next one
 */
export async function openPglite(dir: string, logger: Logger, cacheDir: string = folderTemplateCache): Promise<OpenedPglite> {
  const { PGlite } = await import('@electric-sql/pglite');
  const memory = templateFor(dir);
  if (dir.includes('://') || readdirSync(dir).length > 0) {
    const pglite = memory === undefined ? await PGlite.create(dir) : await PGlite.create(dir, { loadDataDir: memory });
    return { pglite, afterMigrate: async () => {} };
  }
  const cached = join(cacheDir, `${templateKey()}.tar`);
  const dump = await readFile(cached).then(
    (bytes) => new Blob([bytes]),
    () => undefined,
  );
  if (dump !== undefined) {
    try {
      const pglite = await PGlite.create(dir, { loadDataDir: dump });
      logger.info({ template: cached }, 'new database started from the migrated template');
      return { pglite, afterMigrate: async () => {} };
    } catch (error) {
      logger.warn(
        { template: cached, err: error instanceof Error ? error.message : String(error) },
        'template did not load; deleted, making the database from scratch',
      );
      rmSync(cached, { force: true });
      for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true }); // it was empty before the load
    }
  }
  const pglite = await PGlite.create(dir);
  return { pglite, afterMigrate: () => keepTemplate(pglite, cacheDir, cached, logger) };
}

// Names the template by what it must match: the PGlite build (its resolved path carries the
// version in pnpm's store) and every migration with its checksum. Another build or migration
// set uses another file; the migrator's checksum check is the backstop.
function templateKey(): string {
  const hash = createHash('sha256').update(realpathSync(fileURLToPath(import.meta.resolve('@electric-sql/pglite'))));
  for (const migration of readMigrations()) hash.update(`\0${migration.name}\0${migration.checksum}`);
  return hash.digest('hex').slice(0, 16);
}

async function keepTemplate(pglite: PGlite, cacheDir: string, path: string, logger: Logger): Promise<void> {
  try {
    const dump = await pglite.dumpDataDir('none');
    mkdirSync(cacheDir, { recursive: true });
    for (const stale of readdirSync(cacheDir)) rmSync(join(cacheDir, stale), { force: true });
    // Written aside, then renamed: a start running alongside never reads half a file.
    const partial = `${path}.${process.pid}.partial`;
    await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, path);
    logger.info({ template: path }, 'kept the migrated database as the template of the next fresh one');
  } catch (error) {
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not keep a database template; the next fresh start makes its own');
  }
}
