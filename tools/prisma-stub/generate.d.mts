/** Generates the Prisma client of `schemaPath` into `outDir` unless it is up to date. */
export function generatePrismaClient(schemaPath: string, outDir: string, packageDir: string): boolean;
