/** Generates the Prisma client of test/generated/client when its inputs changed. */
export function generateTestClient(): void;
