import type { DbOrTx } from '../../db/types.js';

/** An active halt of a sender, as the outbox and the admin API see it. */
export interface SenderHalt {
  readonly fromPhone: string;
  readonly errorCode: number;
  readonly reason: string;
  readonly haltedAt: Date;
  readonly nextProbeAt: Date;
  readonly probeOutboxId: string | null;
}

/**
 * Halts every send from `from` (the campaign breaker opens for this sender). A sender
 * already halted stays as it is.
 *
 * @returns Whether this call halted it: exactly one caller (of any instance) gets `true`,
 *   and that one pages.
 */
export async function haltSender(db: DbOrTx, from: string, code: number, reason: string, now: Date, probeAfterMs: number): Promise<boolean> {
  const nextProbeAt = new Date(now.getTime() + probeAfterMs);
  // One statement: the row lock makes concurrent halts of one sender a single winner.
  const rows = await db.$queryRaw<Array<{ from_phone: string }>>`
    INSERT INTO "sms_sender_halts" ("from_phone", "active", "error_code", "reason", "halted_at", "next_probe_at")
    VALUES (${from}, true, ${code}, ${reason}, ${now}, ${nextProbeAt})
    ON CONFLICT ("from_phone") DO UPDATE SET "active" = true, "error_code" = EXCLUDED."error_code", "reason" = EXCLUDED."reason",
      "halted_at" = EXCLUDED."halted_at", "next_probe_at" = EXCLUDED."next_probe_at", "probe_outbox_id" = NULL, "resumed_at" = NULL, "resumed_by" = NULL
     WHERE "sms_sender_halts"."active" = false
    RETURNING "from_phone"`;
  return rows.length === 1;
}

/** The active halt of `from`, if any. */
export async function activeHalt(db: DbOrTx, from: string): Promise<SenderHalt | undefined> {
  const row = await db.smsSenderHalt.findFirst({ where: { fromPhone: from, active: true } });
  return row ?? undefined;
}

/**
 * Resumes a halted sender (an operator cleared it, or a probe got through).
 *
 * @returns Whether it was halted.
 */
export async function resumeSender(db: DbOrTx, from: string, by: string, now: Date): Promise<boolean> {
  const { count } = await db.smsSenderHalt.updateMany({ where: { fromPhone: from, active: true }, data: { active: false, resumedAt: now, resumedBy: by } });
  return count === 1;
}

/**
 * Lets one message through a halted sender as a probe, when its probe time has come and
 * no probe is out: the next probe is scheduled `probeIntervalMs` later in the same
 * statement, so of many workers one sends the probe.
 *
 * @returns Whether `outboxId` is the probe.
 */
export async function claimProbe(db: DbOrTx, from: string, outboxId: string, now: Date, probeIntervalMs: number): Promise<boolean> {
  const { count } = await db.smsSenderHalt.updateMany({
    where: { fromPhone: from, active: true, nextProbeAt: { lte: now } },
    data: { probeOutboxId: outboxId, nextProbeAt: new Date(now.getTime() + probeIntervalMs) },
  });
  return count === 1;
}

/**
 * Messages from `from` refused with `code` since `since` and still refused (the 30007 spike
 * count). A message the halt queued again, or that went out and was delivered since, keeps
 * its old error code but is no refusal any more: counted, the victims of a block that has
 * cleared made the next single 30007 halt the sender again (and page again).
 */
export async function recentErrors(db: DbOrTx, from: string, code: number, since: Date): Promise<number> {
  return db.outboundMessage.count({
    where: { fromPhone: from, errorCode: code, deliveryStatus: { in: ['undelivered', 'failed'] }, deliveryUpdatedAt: { gte: since } },
  });
}

/** When `from` was last resumed after a halt (undefined: never halted, or halted now). */
export async function lastResumedAt(db: DbOrTx, from: string): Promise<Date | undefined> {
  const row = await db.smsSenderHalt.findFirst({ where: { fromPhone: from, active: false }, select: { resumedAt: true } });
  return row?.resumedAt ?? undefined;
}
