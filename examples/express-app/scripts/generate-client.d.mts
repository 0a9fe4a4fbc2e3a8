/** Generates the app's Prisma client unless it is up to date. */
export function generateClient(): boolean;
