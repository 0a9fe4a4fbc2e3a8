import type { DbOrTx } from '../../db/types.js';

/** A (sender, recipient) pair: who texts whom. */
export interface SmsPair {
  /** Our number (the `From` of the outbound SMS). */
  readonly from: string;
  /** The recipient. */
  readonly to: string;
}

/**
 * Records that `pair.from` must not text `pair.to` again: Twilio answered a terminal code
 * about this recipient (an invalid number, a landline, an unknown handset). Kept until the
 * recipient texts in ({@link clearSuppressionsOnInbound}) or an operator clears it. A
 * second terminal code for the same pair keeps the first reason.
 *
 * @returns Whether this call created the suppression.
 */
export async function suppressRecipient(db: DbOrTx, pair: SmsPair, code: number, reason: string): Promise<boolean> {
  const created = await db.smsSuppression.createMany({ data: [{ fromPhone: pair.from, toPhone: pair.to, errorCode: code, reason }], skipDuplicates: true });
  return created.count === 1;
}

/**
 * The suppression of `pair`, if any, counting the send it refuses: a refused send leaves a
 * mark on the row the admin API shows.
 *
 * @returns The code and reason, or undefined when the pair may be texted.
 */
export async function refuseIfSuppressed(db: DbOrTx, pair: SmsPair): Promise<{ code: number; reason: string } | undefined> {
  const rows = await db.smsSuppression.updateManyAndReturn({
    where: { fromPhone: pair.from, toPhone: pair.to },
    data: { refused: { increment: 1 } },
    select: { errorCode: true, reason: true },
  });
  const row = rows[0];
  return row === undefined ? undefined : { code: row.errorCode, reason: row.reason };
}

/**
 * The recipient texted the sender: their number works and they want to hear from it, which
 * is the "something real changed" a terminal code waits for.
 *
 * @returns How many suppressions were cleared (0 or 1).
 */
export async function clearSuppressionsOnInbound(db: DbOrTx, inbound: { from: string; to: string }): Promise<number> {
  const { count } = await db.smsSuppression.deleteMany({ where: { fromPhone: inbound.to, toPhone: inbound.from } });
  return count;
}
