/** Generates the Prisma client of `schemaPath` into `outDir` unless it is up to date. */
export function generatePrismaClient(schemaPath: string, outDir: string, packageDir: string): boolean;
/** Generates the test client of a package shipping a model snippet (`prisma/<snippetName>`). */
export function generateSnippetTestClient(packageDir: string, snippetName: string, extraModels?: string): boolean;
