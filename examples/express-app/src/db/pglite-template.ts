// A migrated PGlite data folder that new in-memory databases start from.
//
// Why: `PGlite.create('memory://')` runs initdb inside WebAssembly, then the app applies its
// migrations: about 1.5 s on a quiet 2-core machine and 7-15 s under load, for every app a
// test starts (several hundred in the suite). Loading a dump of a folder that was already
// initialised and migrated (`PGlite.dumpDataDir` -> `loadDataDir`) skips both. The migrator
// still runs on every open and checks each applied migration's checksum against the files,
// so a template made from other migrations fails loudly (MigrationChangedError) instead of
// hiding drift; a template older than the files gets the new migrations applied.
import type { Logger } from '@hardening/core';
import { migrate } from './migrator.js';
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
