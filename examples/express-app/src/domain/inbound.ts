import { isHardeningError, scrubText } from '@hardening/core';
import { setLocalStatementTimeout } from '@hardening/core/prisma';
import type { Db } from '../db/database.js';
import { enqueueSms } from './outbox.js';
import type { ReplyChannel } from './reply-channel.js';
import type { InboundSms, ProcessingDeps, ProcessingResult } from './routing.js';
import { processSms } from './routing.js';

/** Message transactions may run longer than the 5 s default statement timeout. */
export const messageTransactionTimeoutMs = 30_000;

/**
 * Records the raw inbound SMS before anything else, deduplicated on MessageSid: once this
 * returns, the message cannot be lost, whatever happens to its processing.
 *
 * @returns The inbox row, and whether it was already there (a provider retry).
 */
export async function recordInbound(db: Db, sms: InboundSms, payload: Record<string, string>): Promise<{ id: string; status: string; duplicate: boolean }> {
  const created = await db.inboundEvent.createMany({ data: [{ messageSid: sms.messageSid, payload }], skipDuplicates: true });
  const row = await db.inboundEvent.findUniqueOrThrow({ where: { messageSid: sms.messageSid }, select: { id: true, status: true } });
  return { ...row, duplicate: created.count === 0 };
}

/** Outcome of {@link processInbound}. */
export type InboundOutcome =
  | { readonly kind: 'processed'; readonly result: ProcessingResult; readonly viaTwiml: boolean }
  | { readonly kind: 'already_processed' };

/**
 * Processes a recorded inbound SMS in one transaction: the message rows, the business
 * changes, the outbox rows and the inbox row's `processed` mark commit together or not at
 * all ("no message limbo"). The reply goes back in TwiML when `channel` lets it, otherwise
 * through the outbox in the same transaction.
 *
 * On failure every business write is rolled back, the inbox row is marked `failed` with
 * the (scrubbed) error, and the error is rethrown for the caller to retry.
 */
export async function processInbound(db: Db, inboxId: string, deps: ProcessingDeps, channel?: ReplyChannel): Promise<InboundOutcome> {
  try {
    return await db.$transaction(
      async (tx) => {
        await setLocalStatementTimeout(tx, messageTransactionTimeoutMs);
        const locked = await tx.$queryRaw<Array<{ status: string; payload: Record<string, string> }>>`
          SELECT "status", "payload" FROM "inbound_events" WHERE "id" = ${inboxId} FOR UPDATE`;
        const row = locked[0];
        if (row === undefined) throw new Error(`inbound event ${inboxId} not found`);
        if (row.status === 'processed' || row.status === 'dead_letter') return { kind: 'already_processed' } as const;
        const sms: InboundSms = { messageSid: row.payload.MessageSid!, from: row.payload.From!, to: row.payload.To!, body: row.payload.Body ?? '' };
        const result = await processSms(tx, sms, deps);
        const viaTwiml = channel?.claimForTwiml() ?? false;
        if (!viaTwiml) await enqueueSms(tx, { to: sms.from, from: sms.to, body: result.reply, purpose: result.route === 'owner' ? 'onboarding' : 'reply' });
        await tx.inboundEvent.update({
          where: { id: inboxId },
          data: { status: 'processed', processedAt: new Date(), attempts: { increment: 1 }, lastError: null },
        });
        return { kind: 'processed', result, viaTwiml } as const;
      },
      { timeout: messageTransactionTimeoutMs, maxWait: 5000 },
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await db.inboundEvent
      .update({
        where: { id: inboxId },
        data: { status: isHardeningError(error) && error.code === 'INVARIANT_VIOLATION' ? 'dead_letter' : 'failed', attempts: { increment: 1 }, lastError: scrubText(message).slice(0, 500) },
      })
      .catch(() => {}); // the database may be what failed; the queue retry will record it
    throw error;
  }
}
