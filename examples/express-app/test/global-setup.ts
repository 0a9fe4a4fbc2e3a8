// Before any test file loads: generates the app's Prisma client, and makes the migrated PGlite
// template every in-memory test database starts from (see src/db/pglite-template.ts), written
// to a temporary file whose path the test files get through `inject('pgliteTemplate')`.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import type { Logger } from '@hardening/core';
import { generateClient } from '../scripts/generate-client.mjs';
import { dumpMigratedPglite } from '../src/db/pglite-template.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of an uncompressed `dumpDataDir` of a freshly migrated PGlite database. */
    pgliteTemplate: string;
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
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
