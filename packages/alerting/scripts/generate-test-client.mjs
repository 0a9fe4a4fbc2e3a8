// Generates the Prisma client the tests use, from a test schema that contains the model
// snippet this package ships (prisma/alerting.prisma) verbatim, so the snippet, the SQL
// migration and the store's queries are tested together. Runs from vitest's globalSetup (and
// by hand: `node scripts/generate-test-client.mjs`); the output is not committed and is only
// regenerated when its inputs change.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSnippetTestClient } from '../../../tools/prisma-stub/generate.mjs';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

export function generateTestClient() {
  generateSnippetTestClient(packageDir, 'alerting.prisma');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  generateTestClient();
  console.log(`Prisma test client generated in ${join(packageDir, 'test', 'generated', 'client')}`);
}
