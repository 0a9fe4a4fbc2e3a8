// `prisma generate` for this workspace's schemas, shared by the reference app and the
// packages' tests. Re-generates only when the schema or the Prisma version changed (a hash
// is kept next to the output), and points PRISMA_SCHEMA_ENGINE_BINARY at the stub beside
// this file, because the Prisma CLI wants a schema engine it cannot download here and
// `generate` never runs it (see ./schema-engine).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const schemaEngineStub = join(dirname(fileURLToPath(import.meta.url)), 'schema-engine');

/**
 * Generates the Prisma client of `schemaPath` into `outDir` (the schema's generator must
 * output there) unless it is up to date.
 *
 * @param {string} schemaPath - The schema.
 * @param {string} outDir - The generator's output folder (the hash is kept there).
 * @param {string} packageDir - A folder whose node_modules has `prisma`.
 * @returns {boolean} Whether it generated.
 */
export function generatePrismaClient(schemaPath, outDir, packageDir) {
  const require = createRequire(join(resolve(packageDir), 'package.json'));
  const prismaCli = require.resolve('prisma/build/index.js');
  const version = JSON.parse(readFileSync(require.resolve('prisma/package.json'), 'utf8')).version;
  const hash = createHash('sha256').update(readFileSync(schemaPath)).update(version).digest('hex');
  const stampPath = join(outDir, '.inputs-hash');
  if (existsSync(stampPath) && readFileSync(stampPath, 'utf8') === hash) return false;
  const result = spawnSync(process.execPath, [prismaCli, 'generate', '--schema', schemaPath], {
    cwd: packageDir,
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: schemaEngineStub, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`prisma generate failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(stampPath, hash);
  return true;
}

// CLI: node tools/prisma-stub/generate.mjs <schema> <outDir> [packageDir=cwd]
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [schemaPath, outDir, packageDir = process.cwd()] = process.argv.slice(2);
  if (!schemaPath || !outDir) {
    console.error('usage: node tools/prisma-stub/generate.mjs <schema> <outDir> [packageDir]');
    process.exit(2);
  }
  console.log(generatePrismaClient(resolve(schemaPath), resolve(outDir), packageDir) ? 'Prisma client generated' : 'Prisma client up to date');
}

/**
 * Generates the test client of a package that ships a model snippet
 * (`prisma/<name>.prisma`, pasted by users into their schema): a test schema holding the
 * snippet verbatim, plus `extraModels`, is written to `test/generated/schema.prisma` and its
 * client to `test/generated/client`, so snippet, migration and queries are tested together.
 *
 * @param {string} packageDir - The package's folder.
 * @param {string} snippetName - The snippet's file name in `prisma/`.
 * @param {string} [extraModels] - Test-only models appended to the schema.
 * @returns {boolean} Whether it generated.
 */
export function generateSnippetTestClient(packageDir, snippetName, extraModels = '') {
  const outDir = join(packageDir, 'test', 'generated');
  const schemaPath = join(outDir, 'schema.prisma');
  const snippet = readFileSync(join(packageDir, 'prisma', snippetName), 'utf8');
  const schema = `// Generated from prisma/${snippetName} by tools/prisma-stub/generate.mjs; do not edit.
generator client {
  provider = "prisma-client"
  output   = "./client"
}

datasource db {
  provider = "postgresql"
}

// What users paste into their schema, verbatim:
${snippet}
${extraModels}`;
  mkdirSync(outDir, { recursive: true });
  if (!existsSync(schemaPath) || readFileSync(schemaPath, 'utf8') !== schema) writeFileSync(schemaPath, schema);
  return generatePrismaClient(schemaPath, join(outDir, 'client'), packageDir);
}
