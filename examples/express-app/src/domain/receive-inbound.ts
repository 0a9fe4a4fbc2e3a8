import { randomUUID } from 'node:crypto';
import { classifySmsKeyword, isHardeningError, scrubText } from '@hardening/core';
import { setLocalStatementTimeout } from '@hardening/core/prisma';
import type { Db } from '../db/database.js';
import { inMessageSpan } from '../message-trace.js';
import { applyInboundDeliverability } from './deliverability/inbound-keywords.js';
import { answerPath, messageTransactionTimeoutMs, processInbound, recordInbound, type InboundOutcome } from './inbound.js';
import type { ReplyChannel } from './reply-channel.js';
import type { InboundSms, ProcessingDeps, ProcessingResult } from './routing.js';
import { lookupRoute, processSms } from './routing.js';

/** What {@link receiveInbound} decided, with the inbox row it wrote or found. */
export type ReceivedInbound = InboundOutcome & { readonly inboxId: string };

/**
 * Thrown inside the transaction when the inbox already has this MessageSid (a redelivery
 * the idempotency store did not answer, or a spooled copy stored first): everything the
 * transaction wrote is rolled back, and the stored row decides instead.
 */
class AlreadyRecorded extends Error {
  constructor() {
    super('the inbox already holds this MessageSid');
    this.name = 'AlreadyRecorded';
  }
}

/**
 * Receives an inbound SMS in ONE transaction: the business changes, the outbox row (when the
 * reply cannot go back in the TwiML) and the inbox row, already `processed` with its reply,
 * commit together or not at all. The common case is five round trips (BEGIN, the route
 * lookup that also sets the statement timeout and clears a suppression, the state change,
 * the inbox row, COMMIT) where recording first and processing second took twelve.
 *
 * The inbox row is written last, with `ON CONFLICT DO NOTHING`: a concurrent delivery of
 * the same MessageSid waits on the unique index until this one commits, then finds the row
 * (exactly-once). When the row was already there, the work is rolled back and the stored
 * row decides: its first answer again when it was processed, otherwise it is processed now
 * under its row lock ({@link processInbound}).
 *
 * Until this resolves nothing is stored: the caller answers the webhook only after it
 * resolved, or after it recorded the event some other way (the inbox row marked `failed`
 * when this throws: {@link recordFailedInbound}; the spool when it is too slow).
 *
 * @param db - The app's Prisma client.
 * @param sms - The SMS, read from the webhook's parameters once.
 * @param payload - The storable webhook parameters (kept with the inbox row).
 * @param deps - What processing needs from outside.
 * @param channel - Decides whether the reply goes back in the TwiML or through the outbox.
 * @param traceparent - The webhook span's context, kept with the inbox row.
 * @returns The outcome and the inbox row's id.
 * @throws What processing or the database throws; nothing was stored then.
 * @example
 * ```ts
 * const channel = new ReplyChannel();
 * const outcome = await receiveInbound(ctx.db.prisma, sms, params, ctx.processing, channel, activeTraceparent());
 * ```
 */
export function receiveInbound(db: Db, sms: InboundSms, payload: Record<string, string>, deps: ProcessingDeps, channel: ReplyChannel, traceparent: string | null): Promise<ReceivedInbound> {
  return inMessageSpan('sms.process', { attributes: { 'app.sms.path': 'one_transaction' } }, async (span) => {
    const id = randomUUID();
    let outcome: ReceivedInbound;
    try {
      outcome = await db.$transaction(
        async (tx) => {
          let result: ProcessingResult;
          if (classifySmsKeyword(sms.body) === undefined) {
            result = await processSms(tx, sms, deps, await lookupRoute(tx, sms, deps, messageTransactionTimeoutMs));
          } else {
            // A keyword is applied between the suppression clearing and the routing.
            await setLocalStatementTimeout(tx, messageTransactionTimeoutMs);
            const compliance = await applyInboundDeliverability(tx, sms);
            result = compliance === undefined ? await processSms(tx, sms, deps) : { route: 'compliance', reply: compliance, urgent: false, events: [] };
          }
          const viaTwiml = await answerPath(tx, sms, result, channel);
          const created = await tx.inboundEvent.createMany({
            data: [
              {
                id,
                messageSid: sms.messageSid,
                payload,
                traceparent,
                status: 'processed',
                attempts: 1,
                processedAt: new Date(),
                // The reply stays with the row: a redelivery the idempotency store no longer
                // knows (Redis restarted empty, the record expired) is answered with it again.
                reply: result.reply,
                replyVia: viaTwiml ? 'twiml' : 'outbox',
              },
            ],
            skipDuplicates: true,
          });
          if (created.count === 0) throw new AlreadyRecorded();
          return { kind: 'processed', result, viaTwiml, inboxId: id } as const;
        },
        { timeout: messageTransactionTimeoutMs, maxWait: 5000 },
      );
    } catch (error) {
      if (!(error instanceof AlreadyRecorded)) throw error;
      const stored = await recordInbound(db, sms, payload);
      span.setAttribute('app.sms.path', 'stored_before');
      outcome =
        stored.status === 'processed' || stored.status === 'dead_letter'
          ? { kind: 'already_processed', answer: stored.answer, inboxId: stored.id }
          : { ...(await processInbound(db, stored.id, deps, channel)), inboxId: stored.id };
    }
    span.setAttributes({ 'app.inbox.id': outcome.inboxId, 'app.sms.outcome': outcome.kind === 'processed' ? `processed_via_${outcome.viaTwiml ? 'twiml' : 'outbox'}` : outcome.kind });
    return outcome;
  });
}

/**
 * Records an SMS whose one-transaction processing ({@link receiveInbound}) failed: the inbox
 * row with the raw event, `failed` (to be retried) or `dead_letter` (an invariant violation),
 * and the scrubbed error; one statement. A row another delivery already processed is left
 * as it is.
 *
 * @returns The inbox row's id and status.
 * @throws What the database throws (the caller spools the event then).
 * @example
 * ```ts
 * const { id } = await recordFailedInbound(ctx.db.prisma, sms, params, traceparent, error);
 * await queueInboundRetry(ctx, id, sms.messageSid);
 * ```
 */
export async function recordFailedInbound(db: Db, sms: InboundSms, payload: Record<string, string>, traceparent: string | null, error: unknown): Promise<{ id: string; status: string }> {
  const status = isHardeningError(error) && error.code === 'INVARIANT_VIOLATION' ? 'dead_letter' : 'failed';
  const lastError = scrubText(error instanceof Error ? error.message : String(error)).slice(0, 500);
  const rows = await db.$queryRaw<Array<{ id: string; status: string }>>`
    INSERT INTO "inbound_events" ("id", "message_sid", "payload", "status", "attempts", "last_error", "traceparent")
    VALUES (${randomUUID()}, ${sms.messageSid}, ${JSON.stringify(payload)}::jsonb, ${status}, 1, ${lastError}, ${traceparent})
    ON CONFLICT ("message_sid") DO UPDATE
      SET "status" = EXCLUDED."status", "attempts" = "inbound_events"."attempts" + 1, "last_error" = EXCLUDED."last_error"
      WHERE "inbound_events"."status" NOT IN ('processed', 'dead_letter')
    RETURNING "id", "status"`;
  if (rows[0] !== undefined) return rows[0];
  const row = await db.inboundEvent.findUniqueOrThrow({ where: { messageSid: sms.messageSid }, select: { id: true, status: true } });
  return row;
}
