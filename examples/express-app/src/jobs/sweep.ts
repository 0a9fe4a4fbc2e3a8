import { scrubText } from '@hardening/core';
import { isIdempotencyInProgressError } from '@hardening/idempotency';
import type { AppContext } from '../app-context.js';
import { describeError, isRefusedInput, RefusedInputError } from '../db/refused-input.js';
import { recordInbound } from '../domain/inbound.js';
import { moveInlineReplyToOutbox } from '../domain/inline-reply.js';
import { readCallStatus, recordSpooledCall } from '../ingest/missed-call.js';
import type { DrainOptions, SpooledEvent } from '../inbox-spool.js';
import { queueInboundRetry, readInboundSms } from '../ingest/inbound-sms.js';
import { storableFields } from '../ingest/input-text.js';
import { readSlackBody } from '../ingest/slack-envelope.js';
import { storeSlackSignal } from '../ingest/slack-signal.js';
import { inMessageSpan } from '../message-trace.js';
import type { JobKind } from './job-queue.js';

/** Options of {@link sweepOnce}. */
export interface SweepOptions {
  /**
   * An inbox row or a delivery untouched this long is abandoned work (a crash, a restart
   * with the in-process queue, a queue that refused the job). Longer than any processing
   * (30 s message transactions, 25 s Slack evaluations) and the queue's backoff (16 s).
   * @default 120_000
   */
  readonly staleAfterMs?: number;
  /** Rows of each kind per sweep. @default 100 */
  readonly batchSize?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** What one sweep did. */
export interface SweepReport {
  /** Spooled webhook events written to the database. */
  readonly spoolDrained: number;
  /** Inbox rows that never got a delivery, queued. */
  readonly inboxQueued: number;
  /** Deliveries left pending, failed or processing, queued again. */
  readonly deliveriesRequeued: number;
}

const defaults = { staleAfterMs: 120_000, batchSize: 100 };

/** The job kinds a delivery row can be re-queued as. */
const requeueable: readonly JobKind[] = ['process_inbound', 'evaluate_slack_signal', 'process_stripe_event'];

function asStrings(payload: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(payload)) if (typeof value === 'string') out[key] = value;
  return out;
}

/**
 * Writes one spooled event to the database as its webhook would have. An event that can
 * never be stored (malformed, or spooled before the webhooks made input storable) throws
 * a {@link RefusedInputError}: the drain sets it aside instead of retrying it forever.
 */
/**
 * Stores one spooled event in a `spool.drain` span linked to the webhook that spooled it:
 * the inbox row or outbox text written here keeps the drain's context, so the message's
 * later steps link back through the drain to the original webhook (issue 15).
 */
function storeSpooled(ctx: AppContext, event: SpooledEvent): Promise<void> {
  return inMessageSpan('spool.drain', { linkTo: event.traceparent ?? null, attributes: { 'app.spool.provider': event.provider } }, () =>
    storeSpooledEvent(ctx, event),
  );
}

async function storeSpooledEvent(ctx: AppContext, event: SpooledEvent): Promise<void> {
  if (event.provider === 'slack') {
    const body = readSlackBody(event.payload);
    if (body.kind !== 'event')
      throw new RefusedInputError(`spooled Slack event is not storable: ${body.kind === 'ignored' || body.kind === 'malformed' ? body.reason : body.kind}`);
    await storeSlackSignal(ctx, body.envelope);
    return;
  }
  if (event.provider === 'twilio_voice') {
    const call = readCallStatus(event.payload);
    if (call === undefined) throw new RefusedInputError('spooled call is malformed: CallSid, CallStatus, From or To missing or invalid');
    await recordSpooledCall(ctx, call, event.call ?? { fate: 'not_sent' });
    return;
  }
  const { fields, escaped } = storableFields(event.payload);
  const sms = readInboundSms(fields);
  if (sms === undefined) throw new RefusedInputError('spooled SMS is malformed: MessageSid, From or To missing or invalid');
  const payload = Object.keys(escaped).length === 0 ? fields : { ...fields, _escaped: JSON.stringify(escaped) };
  const inbox = await recordInbound(ctx.db.prisma, sms, payload);
  if (inbox.status === 'received' || inbox.status === 'failed') await queueInboundRetry(ctx, inbox.id, sms.messageSid);
  // The webhook answered the holding text while a write that had claimed the TwiML answer
  // was in flight: when that write is the row found here (it committed), its reply was
  // received by nobody and goes through the outbox now (unless it was moved already, or a
  // redelivery answered with it: the move is conditioned on the row's `twiml` mark).
  const write = event.inFlightWrite;
  if (write !== undefined && write.inboxId === inbox.id && inbox.answer?.via === 'twiml') {
    if (await moveInlineReplyToOutbox(ctx.db.prisma, write.inboxId, sms, write.purpose)) {
      ctx.logger.warn({ messageSid: sms.messageSid }, 'spool drain: the reply of a write that committed after its holding answer goes through the outbox');
    }
  }
}

/**
 * The spool's outage test: an error the database refused the input with is the event's
 * own; otherwise the database is asked directly, and only when it does not answer is it
 * an outage (so an unforeseen error cannot block the spool while the database is up).
 */
function spoolDrainOptions(ctx: AppContext): DrainOptions {
  return {
    isPermanent: isRefusedInput,
    // A call whose once-key another process holds (maybe killed holding it): next drain.
    isNotYet: isIdempotencyInProgressError,
    isOutage: async (error) =>
      !isRefusedInput(error) &&
      (await ctx.db.ping().then(
        () => false,
        () => true,
      )),
    describe: describeError,
    onSetAside: (event, reason) =>
      ctx.alert({
        type: 'SPOOL_DEAD_LETTER',
        severity: 'HIGH',
        title: 'A spooled webhook event was set aside',
        message: `A ${event.provider === 'slack' ? 'Slack event' : event.provider === 'twilio_voice' ? 'missed call' : 'inbound SMS'} received ${event.receivedAt} could not be stored after ${event.attempts ?? 1} attempt(s) and was set aside in ${ctx.spool.deadLetterLocation}: ${reason.slice(0, 200)}`,
      }),
  };
}

/**
 * Finds work that fell through the cracks and queues it again, every 30 s on every instance
 * (all of it is idempotent: deliveries are deduplicated on their key, jobs on their
 * delivery id, inbox processing on its row lock and status):
 *
 * 1. drains the inbox spool (events the database could not take) into the database:
 *    an SMS becomes an inbox row and a processing job, a Slack event a stored signal; an
 *    event that keeps failing while the database answers is set aside (dead letter,
 *    SPOOL_DEAD_LETTER alert) so it never blocks the ones behind it;
 * 2. queues inbox rows left `received` or `failed` with no delivery at all (the webhook's
 *    own retry could not be queued);
 * 3. queues again deliveries left `pending`, `failed` or `processing` for longer than
 *    `staleAfterMs` (a job lost with a restart), claiming them so two instances do not both.
 *
 * Each step runs even when another failed; failures are thrown together at the end for the
 * loop to log.
 */
export async function sweepOnce(ctx: AppContext, options: SweepOptions = {}): Promise<SweepReport> {
  const { staleAfterMs = defaults.staleAfterMs, batchSize = defaults.batchSize, now = Date.now } = options;
  const { db, logger } = ctx;
  const errors: unknown[] = [];
  const step = async <T>(name: string, work: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      errors.push(new Error(`${name}: ${scrubText(error instanceof Error ? error.message : String(error))}`, { cause: error }));
      return fallback;
    }
  };

  const spoolDrained = await step('spool drain', () => ctx.spool.drain((event) => storeSpooled(ctx, event), spoolDrainOptions(ctx)), 0);
  const cutoff = new Date(now() - staleAfterMs);

  const inboxQueued = await step(
    'inbox',
    async () => {
      const orphans = await db.prisma.$queryRaw<Array<{ id: string; messageSid: string }>>`
        SELECT i."id", i."message_sid" AS "messageSid" FROM "inbound_events" i
         WHERE i."status" IN ('received', 'failed') AND i."created_at" < ${cutoff}
           AND NOT EXISTS (SELECT 1 FROM "webhook_deliveries" d
                            WHERE d."provider" = 'twilio' AND d."event_id" = i."message_sid" AND d."kind" = 'process_inbound')
         ORDER BY i."created_at"
         LIMIT ${batchSize}`;
      for (const row of orphans) await queueInboundRetry(ctx, row.id, row.messageSid);
      return orphans.length;
    },
    0,
  );

  const deliveriesRequeued = await step(
    'deliveries',
    async () => {
      const stale = await db.prisma.$queryRaw<Array<{ id: string; kind: JobKind; payload: unknown }>>`
        UPDATE "webhook_deliveries" SET "status" = 'pending', "updated_at" = ${new Date(now())}
         WHERE "id" IN (
           SELECT "id" FROM "webhook_deliveries"
            WHERE "status" IN ('pending', 'failed', 'processing') AND "updated_at" < ${cutoff}
              AND "kind" = ANY(${[...requeueable]}::text[])
            ORDER BY "updated_at"
            LIMIT ${batchSize}
            FOR UPDATE SKIP LOCKED)
        RETURNING "id", "kind", "payload"`;
      for (const row of stale) {
        const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as Record<string, unknown>;
        await ctx.queue.add({ kind: row.kind, deliveryId: row.id, payload: asStrings(payload ?? {}) });
      }
      return stale.length;
    },
    0,
  );

  const report = { spoolDrained, inboxQueued, deliveriesRequeued };
  if (spoolDrained + inboxQueued + deliveriesRequeued > 0) logger.warn(report, 'sweep: spooled or abandoned work queued for processing');
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, errors.map((e) => (e as Error).message).join('; '));
  return report;
}
