// Generates the Prisma client the PostgreSQL check test uses before any test file loads.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatePrismaClient } from '../../../tools/prisma-stub/generate.mjs';

export default function setup(): void {
  const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
  generatePrismaClient(join(packageDir, 'test', 'prisma', 'schema.prisma'), join(packageDir, 'test', 'prisma', 'generated'), packageDir);
}
