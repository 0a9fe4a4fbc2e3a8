import { isHardeningError, scrubText } from '@hardening/core';
import { setLocalStatementTimeout } from '@hardening/core/prisma';
import type { Span } from '@opentelemetry/api';
import type { Db } from '../db/database.js';
import type { Tx } from '../db/types.js';
import { activeTraceparent, inMessageSpan, linkTo } from '../message-trace.js';
import { applyInboundDeliverability } from './deliverability/inbound-keywords.js';
import { enqueueSms, type OutboundPurpose } from './outbox.js';
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
export async function recordInbound(db: Db, sms: InboundSms, payload: Record<string, string>): Promise<RecordedInbound> {
  const created = await db.inboundEvent.createMany({ data: [{ messageSid: sms.messageSid, payload, traceparent: activeTraceparent() }], skipDuplicates: true });
  const row = await db.inboundEvent.findUniqueOrThrow({
    where: { messageSid: sms.messageSid },
    select: { id: true, status: true, reply: true, replyVia: true },
  });
  return { id: row.id, status: row.status, duplicate: created.count === 0, answer: storedAnswer(row) };
}

/** An inbox row as {@link recordInbound} found it. */
export interface RecordedInbound {
  readonly id: string;
  readonly status: string;
  /** The row was already there (a provider retry). */
  readonly duplicate: boolean;
  /** What the first delivery was answered, when processing already decided it. */
  readonly answer: StoredAnswer | undefined;
}

/**
 * What a processed SMS's first delivery was answered: the reply itself (`twiml`), or a
 * holding text while the reply travels through the outbox (`outbox`). A redelivery gets
 * the same answer, so the reply is never only in an answer nobody received.
 */
export type StoredAnswer = { readonly via: 'twiml'; readonly reply: string } | { readonly via: 'outbox' };

/** The answer an inbox row keeps, if processing decided one. */
export function storedAnswer(row: { reply: string | null; replyVia: string | null }): StoredAnswer | undefined {
  // `twiml_replayed`: a redelivery answered with it too (domain/inline-reply.ts).
  if ((row.replyVia === 'twiml' || row.replyVia === 'twiml_replayed') && row.reply !== null) return { via: 'twiml', reply: row.reply };
  if (row.replyVia === 'outbox') return { via: 'outbox' };
  return undefined;
}

/** Outcome of {@link processInbound}. */
export type InboundOutcome =
  | { readonly kind: 'processed'; readonly result: ProcessingResult; readonly viaTwiml: boolean }
  | { readonly kind: 'already_processed'; readonly answer: StoredAnswer | undefined };

/**
 * Processes a recorded inbound SMS in one transaction: the message rows, the business
 * changes, the outbox rows and the inbox row's `processed` mark commit together or not at
 * all ("no message limbo"). The reply goes back in TwiML when `channel` lets it, otherwise
 * through the outbox in the same transaction.
 *
 * On failure every business write is rolled back, the inbox row is marked `failed` with
 * the (scrubbed) error, and the error is rethrown for the caller to retry.
 */
export function processInbound(db: Db, inboxId: string, deps: ProcessingDeps, channel?: ReplyChannel): Promise<InboundOutcome> {
  // A span of its own, linked to the webhook that stored the row (the queued retry runs in
  // another job): the outbox row written inside carries this span's context on to the send.
  return inMessageSpan('sms.process', { attributes: { 'app.inbox.id': inboxId } }, async (span) => {
    const outcome = await processInTransaction(db, inboxId, deps, channel, span);
    span.setAttribute('app.sms.outcome', outcome.kind === 'processed' ? `processed_via_${outcome.viaTwiml ? 'twiml' : 'outbox'}` : outcome.kind);
    return outcome;
  });
}

/**
 * How the reply of a processed SMS travels: in the webhook's TwiML when `channel` still
 * allows it, otherwise through the outbox, written here in the caller's transaction.
 *
 * @returns Whether the reply goes back in the TwiML.
 */
export async function answerPath(tx: Tx, sms: InboundSms, result: ProcessingResult, channel: ReplyChannel | undefined): Promise<boolean> {
  const purpose = replyPurpose(result);
  const viaTwiml = channel?.claimForTwiml(purpose) ?? false;
  if (!viaTwiml) await enqueueSms(tx, { to: sms.from, from: sms.to, body: result.reply, purpose });
  return viaTwiml;
}

/**
 * The outbox purpose of a reply that does not go back in the TwiML.
 *
 * @example
 * ```ts
 * replyPurpose({ route: 'owner', reply: texts.welcome, urgent: false, events: [] }); // 'onboarding'
 * ```
 */
export function replyPurpose(result: ProcessingResult): OutboundPurpose {
  return result.route === 'owner' ? 'onboarding' : result.route === 'compliance' ? 'compliance' : 'reply';
}

async function processInTransaction(db: Db, inboxId: string, deps: ProcessingDeps, channel: ReplyChannel | undefined, span: Span): Promise<InboundOutcome> {
  try {
    return await db.$transaction(
      async (tx) => {
        await setLocalStatementTimeout(tx, messageTransactionTimeoutMs);
        const locked = await tx.$queryRaw<
          Array<{ status: string; payload: Record<string, string>; reply: string | null; replyVia: string | null; traceparent: string | null }>
        >`
          SELECT "status", "payload", "reply", "reply_via" AS "replyVia", "traceparent" FROM "inbound_events" WHERE "id" = ${inboxId} FOR UPDATE`;
        const row = locked[0];
        if (row === undefined) throw new Error(`inbound event ${inboxId} not found`);
        const stored = linkTo(row.traceparent, { 'app.link': 'inbox' });
        if (stored !== undefined) span.addLink(stored);
        if (row.status === 'processed' || row.status === 'dead_letter') return { kind: 'already_processed', answer: storedAnswer(row) } as const;
        const sms: InboundSms = { messageSid: row.payload.MessageSid!, from: row.payload.From!, to: row.payload.To!, body: row.payload.Body ?? '' };
        const compliance = await applyInboundDeliverability(tx, sms);
        const result: ProcessingResult =
          compliance === undefined ? await processSms(tx, sms, deps) : { route: 'compliance', reply: compliance, urgent: false, events: [] };
        const viaTwiml = await answerPath(tx, sms, result, channel);
        await tx.inboundEvent.update({
          where: { id: inboxId },
          // The reply stays with the row: a redelivery the idempotency store no longer knows
          // (Redis restarted empty, the record expired) is answered with it again.
          data: {
            status: 'processed',
            processedAt: new Date(),
            attempts: { increment: 1 },
            lastError: null,
            reply: result.reply,
            replyVia: viaTwiml ? 'twiml' : 'outbox',
          },
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
        data: {
          status: isHardeningError(error) && error.code === 'INVARIANT_VIOLATION' ? 'dead_letter' : 'failed',
          attempts: { increment: 1 },
          lastError: scrubText(message).slice(0, 500),
        },
      })
      .catch(() => {}); // the database may be what failed; the queue retry will record it
    throw error;
  }
}
