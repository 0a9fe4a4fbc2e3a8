// Generates the Prisma client the tests use, from a test schema that contains the model
// snippet this package ships (prisma/idempotency.prisma) verbatim, so the snippet, the SQL
// migration and the store's queries are tested together. Runs from vitest's globalSetup (and
// by hand: `node scripts/generate-test-client.mjs`); the output is not committed and is only
// regenerated when its inputs change.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSnippetTestClient } from '../../../tools/prisma-stub/generate.mjs';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

// A business table for the transaction tests ("nothing half-written").
const testModels = `
model TestOrder {
  id      Int    @id @default(autoincrement())
  eventId String @map("event_id")
  amount  Int

  @@map("test_orders")
}
`;

export function generateTestClient() {
  generateSnippetTestClient(packageDir, 'idempotency.prisma', testModels);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  generateTestClient();
  console.log(`Prisma test client generated in ${join(packageDir, 'test', 'generated', 'client')}`);
}
