import type { SmsKeyword } from '@hardening/core';
import type { DbOrTx } from '../../db/types.js';
import type { SmsPair } from './suppression.js';

/** Where an opt-out state change came from. */
export type OptOutSource = 'keyword' | 'twilio_21610';

/**
 * Applies an opt-out keyword the recipient sent to the sender (`pair.to` texted `pair.from`
 * STOP, START or HELP), and writes the audit row. HELP changes nothing but is audited.
 * Opt-in (START, YES, UNSTOP) is written only when the pair is opted out: YES is also a
 * word of the app's conversations, and an opt-in audit row for every "yes" would drown the
 * trail.
 *
 * @returns Whether the opt-out state changed.
 */
export async function applyKeyword(db: DbOrTx, pair: SmsPair, keyword: SmsKeyword, detail: string): Promise<boolean> {
  if (keyword === 'help') {
    await audit(db, pair, 'help', 'keyword', detail);
    return false;
  }
  if (keyword === 'opt_out') return setOptOut(db, pair, true, 'keyword', detail);
  if (!(await isOptedOut(db, pair))) return false;
  return setOptOut(db, pair, false, 'keyword', detail);
}

/**
 * Sets the opt-out state of `pair` and writes its audit row (only when it changed).
 *
 * @returns Whether it changed.
 */
export async function setOptOut(db: DbOrTx, pair: SmsPair, optedOut: boolean, source: OptOutSource, detail: string): Promise<boolean> {
  const now = new Date();
  // One statement, so two concurrent STOPs write one change: the WHERE keeps an unchanged row.
  const changed = await db.$queryRaw<Array<{ opted_out: boolean }>>`
    INSERT INTO "sms_opt_outs" ("from_phone", "to_phone", "opted_out", "updated_at") VALUES (${pair.from}, ${pair.to}, ${optedOut}, ${now})
    ON CONFLICT ("from_phone", "to_phone") DO UPDATE SET "opted_out" = EXCLUDED."opted_out", "updated_at" = EXCLUDED."updated_at"
     WHERE "sms_opt_outs"."opted_out" <> EXCLUDED."opted_out"
    RETURNING "opted_out"`;
  if (changed.length === 0) return false;
  await audit(db, pair, optedOut ? 'opt_out' : 'opt_in', source, detail);
  return true;
}

/** Whether `pair.to` opted out of texts from `pair.from`. Throws when it cannot be read (the caller fails closed). */
export async function isOptedOut(db: DbOrTx, pair: SmsPair): Promise<boolean> {
  const row = await db.smsOptOut.findUnique({ where: { fromPhone_toPhone: { fromPhone: pair.from, toPhone: pair.to } }, select: { optedOut: true } });
  return row?.optedOut === true;
}

async function audit(db: DbOrTx, pair: SmsPair, action: string, source: OptOutSource, detail: string): Promise<void> {
  await db.smsOptOutEvent.create({ data: { fromPhone: pair.from, toPhone: pair.to, action, source, detail: detail.slice(0, 200) } });
}
