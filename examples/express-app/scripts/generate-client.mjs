// Generates the Prisma client into src/db/generated (not committed) when the schema or the
// Prisma version changed. Runs before `start`, `db:migrate`, the tests and the type check,
// so a clean clone needs nothing done by hand.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatePrismaClient } from '../../../tools/prisma-stub/generate.mjs';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');

export function generateClient() {
  return generatePrismaClient(join(appDir, 'prisma', 'schema.prisma'), join(appDir, 'src', 'db', 'generated'), appDir);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(generateClient() ? 'Prisma client generated' : 'Prisma client up to date');
}
