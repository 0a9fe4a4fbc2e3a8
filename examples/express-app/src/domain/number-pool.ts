import type { PoolNumber } from '../db/generated/client.js';
import type { DbOrTx, Tx } from '../db/types.js';
import { toE164 } from './phone.js';

/**
 * Takes one AVAILABLE client number from the pool for `clientId`, atomically: the row is
 * locked with `FOR UPDATE SKIP LOCKED`, so two clients allocating at the same moment get
 * two different numbers (or one gets none). A client that already has a number keeps it.
 *
 * @returns The number, or undefined when the pool is empty.
 */
export async function allocateNumber(tx: Tx, clientId: string): Promise<PoolNumber | undefined> {
  const existing = await tx.poolNumber.findUnique({ where: { clientId } });
  if (existing !== null) return existing;
  const rows = await tx.$queryRaw<Array<{ id: string }>>`
    UPDATE "pool_numbers"
       SET "status" = 'ASSIGNED', "client_id" = ${clientId}, "assigned_at" = CURRENT_TIMESTAMP
     WHERE "id" = (
       SELECT "id" FROM "pool_numbers"
        WHERE "status" = 'AVAILABLE' AND "role" = 'CLIENT'
        ORDER BY "created_at", "id"
        LIMIT 1
        FOR UPDATE SKIP LOCKED)
    RETURNING "id"`;
  const id = rows[0]?.id;
  return id === undefined ? undefined : tx.poolNumber.findUniqueOrThrow({ where: { id } });
}

/** What {@link addNumbers} did with each number. */
export interface AddNumbersResult {
  readonly added: string[];
  readonly alreadyPresent: string[];
  readonly invalid: string[];
}

/**
 * Adds numbers to the pool (role CLIENT unless `role` says SYSTEM). Invalid numbers are
 * reported, not added; numbers already present are left as they are.
 */
export async function addNumbers(db: DbOrTx, numbers: readonly unknown[], role: 'CLIENT' | 'SYSTEM' = 'CLIENT'): Promise<AddNumbersResult> {
  const added: string[] = [];
  const alreadyPresent: string[] = [];
  const invalid: string[] = [];
  for (const raw of numbers) {
    const phoneNumber = toE164(raw);
    if (phoneNumber === undefined) {
      invalid.push(String(raw));
      continue;
    }
    const result = await db.poolNumber.createMany({ data: [{ phoneNumber, role }], skipDuplicates: true });
    (result.count === 1 ? added : alreadyPresent).push(phoneNumber);
  }
  return { added, alreadyPresent, invalid };
}

/** Pool numbers by status, for the monitor and the admin API. */
export async function poolLevel(db: DbOrTx): Promise<{ available: number; assigned: number }> {
  const [available, assigned] = await Promise.all([
    db.poolNumber.count({ where: { status: 'AVAILABLE', role: 'CLIENT' } }),
    db.poolNumber.count({ where: { status: 'ASSIGNED' } }),
  ]);
  return { available, assigned };
}
