// Generates every Prisma client the workspace's TypeScript imports but does not commit: the
// reference app's and the packages' test clients. `pnpm lint` runs it first because the
// type-aware lint needs their types (without them each query is an unresolved type, and the
// no-unsafe-* rules report hundreds of errors on a fresh clone), as each package's
// `typecheck` generates its own. A client is regenerated only when its schema or the Prisma
// version changed, so on a warm clone this takes well under a second.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatePrismaClient } from '../tools/prisma-stub/generate.mjs';
import { generateClient } from '../examples/express-app/scripts/generate-client.mjs';
import { generateTestClient as generateAlertingTestClient } from '../packages/alerting/scripts/generate-test-client.mjs';
import { generateTestClient as generateIdempotencyTestClient } from '../packages/idempotency/scripts/generate-test-client.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

generateClient();
generateAlertingTestClient();
generateIdempotencyTestClient();
for (const name of ['core', 'health']) {
  const dir = join(root, 'packages', name);
  generatePrismaClient(join(dir, 'test', 'prisma', 'schema.prisma'), join(dir, 'test', 'prisma', 'generated'), dir);
}
