export { prismaHardening, setLocalStatementTimeout } from './prisma-extension.js';
export type { PrismaHardeningOptions } from './prisma-extension.js';
export { writeNeverApplied } from './never-reached-database.js';
