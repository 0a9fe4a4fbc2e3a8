import type { DbOrTx } from '../db/types.js';
import { addNumbers } from '../domain/number-pool.js';

/** Client numbers stocked in an empty pool on the embedded default (reserved 555 numbers, never real). */
export const developmentPoolNumbers = ['+15550001001', '+15550001002', '+15550001003', '+15550001004', '+15550001005'] as const;

/**
 * Stocks the number pool with {@link developmentPoolNumbers} when it has no client number
 * at all, so the first sign-up on a fresh local database gets a number instead of paging
 * POOL_EMPTY. Only `pnpm start` in development on embedded PGlite calls it; a real
 * deployment adds its Twilio numbers with `POST /api/admin/numbers`.
 *
 * @example
 * ```ts
 * const added = await seedDevelopmentNumbers(db.prisma); // [] when the pool already had numbers
 * ```
 * @returns The numbers added (none when the pool already had client numbers).
 */
export async function seedDevelopmentNumbers(db: DbOrTx): Promise<string[]> {
  const existing = await db.poolNumber.count({ where: { role: 'CLIENT' } });
  if (existing > 0) return [];
  return (await addNumbers(db, developmentPoolNumbers)).added;
}
