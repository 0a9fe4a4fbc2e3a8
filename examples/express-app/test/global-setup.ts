// Before any test file loads: generates the app's Prisma client, and makes the migrated PGlite
// template every in-memory test database starts from (see src/db/pglite-template.ts), written
// to a temporary file whose path the test files get through `inject('pgliteTemplate')`; with
// PostgreSQL up, also a migrated PostgreSQL database the tests' own databases are copies of
// (`inject('postgresTemplate')`, see test/support/databases.ts).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import type { Logger } from '@hardening/core';
import { createTestDatabase, requirePostgres, type TestDatabase } from '@hardening/test-support';
import { generateClient } from '../scripts/generate-client.mjs';
import { migrate } from '../src/db/migrator.js';
import { dumpMigratedPglite } from '../src/db/pglite-template.js';
import { postgresSession } from '../src/db/sql-session.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of an uncompressed `dumpDataDir` of a freshly migrated PGlite database. */
    pgliteTemplate: string;
    /** Name of a freshly migrated PostgreSQL database to copy, or null without PostgreSQL. */
    postgresTemplate: string | null;
  }
}

// Not core's silentLogger: the global setup runs without the `@hardening/source` condition,
// so a value import from a package would need its build (dist), which a clean clone lacks.
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  generateClient();
  const dir = await mkdtemp(join(tmpdir(), 'app-pglite-template-'));
  const path = join(dir, 'migrated.tar');
  await writeFile(path, Buffer.from(await (await dumpMigratedPglite(quiet)).arrayBuffer()));
  project.provide('pgliteTemplate', path);
  const postgresTemplate = (await requirePostgres()) ? await migratedPostgres() : undefined;
  project.provide('postgresTemplate', postgresTemplate?.name ?? null);
  return async () => {
    await rm(dir, { recursive: true, force: true });
    await postgresTemplate?.drop();
  };
}

/**
 * A PostgreSQL database the app's migrations ran on, with no connection left open (PostgreSQL
 * copies a template only while nobody is connected to it).
 */
async function migratedPostgres(): Promise<TestDatabase> {
  const database = await createTestDatabase('app_template');
  const session = await postgresSession(database.url);
  try {
    await migrate(session, quiet);
  } finally {
    await session.end();
  }
  return database;
}
