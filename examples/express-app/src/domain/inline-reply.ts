/**
 * Who delivers a reply that was decided for the TwiML answer, when that answer's fate is
 * in doubt (issue 11, the chaos run's "reply recorded as sent inline that never went out").
 *
 * An inbox row with `reply_via = 'twiml'` says "the delivery that processed it answered
 * with the reply". Two parties may later want to deliver that reply another way, and only
 * one of them may:
 *
 * - the processing delivery itself, when Twilio gave up on it (the socket closed before
 *   the answer was written, a database slower than Twilio's 15 s): it moves the reply to
 *   the outbox ({@link moveInlineReplyToOutbox}), `twiml` becomes `outbox`;
 * - a redelivery that would answer with the same reply again
 *   ({@link claimStoredAnswer}): `twiml` becomes `twiml_replayed`, so the first delivery's
 *   move no longer applies (Twilio acts on the redelivery's answer, which carries it).
 *
 * Both are single-row updates conditioned on `twiml`: PostgreSQL serialises them on the row
 * lock and re-checks the condition on the row's newest version, so exactly one wins.
 */
import type { Db } from '../db/database.js';
import { storedAnswer, type StoredAnswer } from './inbound.js';
import { enqueueSmsOnce, type OutboundPurpose } from './outbox.js';
import type { InboundSms } from './routing.js';

/**
 * A write of an inbound SMS that had claimed the TwiML answer and was still in flight when
 * the webhook answered with the holding text instead (the database hung with the statement
 * on the wire: it may yet commit, or may have committed with its answer lost). Kept with
 * the spooled copy of the event, so whichever process drains it hands the reply to the
 * outbox if that write did commit ({@link moveInlineReplyToOutbox}).
 */
export interface InFlightWrite {
  /** The inbox row id the write would commit. */
  readonly inboxId: string;
  /** The outbox purpose of its reply. */
  readonly purpose: OutboundPurpose;
}

/**
 * Moves the reply of an inbox row answered inline to the outbox, when that answer cannot
 * have reached Twilio: the row's `reply_via` goes from `twiml` to `outbox` and the outbox
 * row (the row's own reply) is written in the same transaction (once per MessageSid, by
 * its send key). A row of another id, or not (yet) committed, is left alone.
 *
 * @param db - Prisma.
 * @param inboxId - The row this delivery's write committed (or may have).
 * @param sms - The inbound SMS (the reply goes to its sender, from the number it texted).
 * @param purpose - The outbox purpose of that reply.
 * @returns True when the reply now goes through the outbox; false when a redelivery had
 *   already answered with it, the row was moved before, or there is no such row.
 * @throws What the database throws (nothing was changed then).
 * @example
 * ```ts
 * if (await moveInlineReplyToOutbox(ctx.db.prisma, outcome.inboxId, sms, 'reply')) return messageTwiml(texts.holding);
 * ```
 */
export async function moveInlineReplyToOutbox(db: Db, inboxId: string, sms: InboundSms, purpose: OutboundPurpose): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const moved = await tx.inboundEvent.updateManyAndReturn({
      where: { id: inboxId, replyVia: 'twiml', reply: { not: null } },
      data: { replyVia: 'outbox' },
      select: { reply: true },
    });
    const reply = moved[0]?.reply;
    if (reply == null) return false;
    await enqueueSmsOnce(tx, { to: sms.from, from: sms.to, body: reply, purpose, sendKey: `inline_reply:${sms.messageSid}` });
    return true;
  });
}

/**
 * The answer a redelivery of `messageSid` repeats, claimed: a reply still marked `twiml` is
 * marked `twiml_replayed` in the same statement, so the first delivery can no longer move it
 * to the outbox (the customer would get it twice). Undefined while the row is not processed
 * (its reply goes through the outbox: the holding text is the answer) or absent.
 *
 * @param db - Prisma.
 * @param messageSid - The SMS redelivered.
 * @returns The stored answer as it stands after the claim.
 * @throws What the database throws.
 * @example
 * ```ts
 * const answer = await claimStoredAnswer(ctx.db.prisma, sms.messageSid);
 * return messageTwiml(answer?.via === 'twiml' ? answer.reply : texts.holding);
 * ```
 */
export async function claimStoredAnswer(db: Db, messageSid: string): Promise<StoredAnswer | undefined> {
  const rows = await db.$queryRaw<Array<{ reply: string | null; replyVia: string | null }>>`
    UPDATE "inbound_events"
       SET "reply_via" = CASE WHEN "reply_via" = 'twiml' THEN 'twiml_replayed' ELSE "reply_via" END
     WHERE "message_sid" = ${messageSid} AND "status" IN ('processed', 'dead_letter')
    RETURNING "reply", "reply_via" AS "replyVia"`;
  return rows[0] === undefined ? undefined : storedAnswer(rows[0]);
}
