import { generateTestClient } from '../scripts/generate-test-client.mjs';

/** Generates the Prisma test client once per vitest run (it is not committed). */
export default function setup(): void {
  generateTestClient();
}
