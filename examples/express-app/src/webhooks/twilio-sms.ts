import type { Request, RequestHandler, Response } from 'express';
import { SpanKind, type Span } from '@opentelemetry/api';
import { isHardeningError, maskPhoneNumber, scrubText } from '@hardening/core';
import { isIdempotencyStoreError } from '@hardening/idempotency';
import type { AppContext } from '../app-context.js';
import { describeError, isRefusedInput } from '../db/refused-input.js';
import { replyPurpose, type StoredAnswer } from '../domain/inbound.js';
import { claimStoredAnswer, type InFlightWrite } from '../domain/inline-reply.js';
import {
  newInboxRow,
  receiveInbound,
  recordFailedInbound,
  recordReceivedInbound,
  type FailedInbound,
  type InboxRowRef,
  type ReceivedInbound,
} from '../domain/receive-inbound.js';
import { texts } from '../domain/messages.js';
import type { OutboundPurpose } from '../domain/outbox.js';
import { ReplyChannel } from '../domain/reply-channel.js';
import type { InboundSms } from '../domain/routing.js';
import { sendProblem } from '../http/problem.js';
import { activeTraceparent, inMessageSpan } from '../message-trace.js';
import { queueInboundRetry, readInboundSms } from '../ingest/inbound-sms.js';
import { storableFields } from '../ingest/input-text.js';
import { afterProcessing } from '../ingest/processed-sms.js';
import { settleBy } from '../settles-within.js';
import { verifyTwilioSignature } from './twilio-signature.js';
import { answerLost, handOverLateReply } from './late-inline-reply.js';
import { messageTwiml } from './twiml.js';

/** Twilio waits 15 s for the answer; a TwiML reply is decided within this, margin kept. */
const twilioAnswerBudgetMs = 12_000;
/**
 * The inbox write stops being waited for this long before the answer is due: what is left
 * covers spooling the event instead (Redis for at most `spoolRedisTimeoutMs`, then the local
 * file) on a loaded machine.
 */
const spoolReserveMs = 3000;
const spoolRedisTimeoutMs = 500;
/**
 * The least time a redelivery's look at the inbox row gets, even when the dedup's wait for
 * an in-flight delivery (10 s) has spent the answer budget: 10 s + 1.5 s + the spool still
 * answer inside Twilio's 15 s.
 */
const minStoredReadMs = 1500;

/**
 * POST /sms: Twilio's inbound SMS webhook.
 *
 * 1. The signature is verified (403 otherwise).
 * 2. A Twilio retry of the same MessageSid gets the same TwiML and creates nothing.
 * 3. The raw event is stored before the answer: recording and processing are one
 *    transaction (the inbox row, deduplicated on MessageSid, commits with the business
 *    changes and the outbox row: domain/receive-inbound.ts). When it commits within the
 *    budget the reply is the TwiML answer. When it fails, the inbox row is written `failed`
 *    on its own, the customer gets a polite holding reply, and processing is retried from
 *    our side (queue with backoff, dead letter and an alert at the end). When it is too
 *    slow, the inbox row is written `received` on its own, the customer gets the holding
 *    reply, and the reply goes out through the outbox when the transaction commits (taking
 *    the row over). If the database cannot take the event at all, it is spooled (Redis or a
 *    local file) and drained later.
 * 5. An invariant violation answers a polite error and raises INVARIANT_VIOLATION.
 *
 * The route's handlers (the signature check, then the webhook), for `app.post('/sms', ...)`
 * after the form body: a route on the app, not a router of its own, since each router
 * level is one more walk of its layers on every message.
 *
 * @example
 * ```ts
 * app.post('/sms', formBody({ limit: 64 * 1024 }), ...twilioSmsRoute(ctx));
 * ```
 */
export function twilioSmsRoute(ctx: AppContext): RequestHandler[] {
  const { logger, metrics } = ctx;
  return [
    verifyTwilioSignature({ authToken: ctx.config.twilio?.authToken, publicBaseUrl: ctx.config.env.PUBLIC_BASE_URL, logger, metrics }),
    // The root of the message's trace: the inbox row keeps this span's context, and the
    // processing, the send and the status callbacks link back to it (message-trace.ts).
    (req: Request, res) =>
      inMessageSpan('twilio.sms', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'http.route': '/sms' } }, (span) =>
        receive(req, res, span),
      ),
  ];

  async function receive(req: Request, res: Response, span: Span): Promise<void> {
    // Storable from here on: no NUL or lone surrogate reaches PostgreSQL (it refuses
    // them); the originals of changed fields are kept JSON-escaped with the inbox row.
    const { fields: params, escaped } = storableFields(req.body);
    const payload = Object.keys(escaped).length === 0 ? params : { ...params, _escaped: JSON.stringify(escaped) };
    // An id is refused, not repaired: no provider sends one that needed cleaning.
    const sms = 'MessageSid' in escaped ? undefined : readInboundSms(params);
    if (sms === undefined) {
      metrics.webhooks.inc({ provider: 'twilio_sms', outcome: 'malformed' });
      sendProblem(res, { title: 'Bad request', status: 400, detail: 'MessageSid, From and To must be present and valid.' });
      return;
    }
    // Counted from the request's arrival: the idempotency claim (a slow or restarting
    // Redis) and the inbox write (a hung database) both spend Twilio's 15 s.
    const answerBy = Date.now() + twilioAnswerBudgetMs;
    const answer = watchAnswer(res);
    let reply: { status: number; headers: Record<string, string>; body: string; duplicate: boolean };
    // Where the dedup got to, so a store failure is told apart from a processing one.
    let started = false;
    try {
      // Once processing has its answer, recording it may not hold the answer back (the
      // dedup's recordTimeoutMs, 1.5 s for Twilio): the store retries a failed record for
      // its 60 s lease, and Twilio gives up after 15 s, taking the only copy of the reply.
      const out = await ctx.dedup.twilio(
        { headers: req.headers, params },
        async () => {
          started = true;
          return handle(ctx, sms, payload, answerBy, answer);
        },
        { kind: 'sms' },
      );
      if (out.recordPending) {
        // The inbox row guards against a rerun, and keeps the reply for a redelivery.
        logger.warn({ messageSid: sms.messageSid }, 'idempotency store could not record the SMS reply (yet); answering with it anyway');
      }
      if (out.inProgress) {
        // A redelivery while the first delivery is still stuck (a hung database) past the
        // dedup's wait. Twilio treats a 409 as a failed webhook; it retries only when our
        // first answer failed to reach it, so this answer is the one it acts on. The first
        // delivery's inline budget (counted from its arrival) is spent by now, so its reply
        // goes through the outbox: the holding text is the right answer here, never a
        // second reply.
        // The first delivery stores nothing until its transaction commits (or its budget
        // ends), and it may be dead (its instance killed, the dedup's lease not yet run out):
        // the event is stored here before the holding text, and processed from our side.
        // The "first delivery" may also be a claim that reached the store after its client
        // gave up on it (a restarting Redis), its delivery long since answered inline: the
        // inbox row then holds that answer, and this one repeats it (issue 11, the retry's
        // answer): a holding text here would leave the reply only in an answer Twilio discarded.
        const answer = await storeInFlight(ctx, sms, payload, answerBy);
        metrics.webhooks.inc({ provider: 'twilio_sms', outcome: answer?.via === 'twiml' ? 'in_progress_replayed' : 'in_progress_holding' });
        logger.info(
          { messageSid: sms.messageSid, via: answer?.via ?? 'none' },
          answer?.via === 'twiml'
            ? 'SMS redelivered while its claim is still held; the inbox row has its inline reply: answered with it'
            : 'SMS redelivered while the first delivery is still processed; answered with the holding text',
        );
        reply = { status: 200, headers: { 'content-type': 'text/xml' }, body: answerTwiml(answer), duplicate: true };
      } else {
        reply = { status: out.status, headers: out.headers, body: out.body, duplicate: out.duplicate };
      }
    } catch (error) {
      if (started) throw error;
      // The idempotency store itself is down (its error, or the database breaker's when
      // the store is the database): the inbox row (deduplicated on MessageSid) still
      // prevents double processing, and replays the reply, so carry on without it.
      logger.warn(
        { messageSid: sms.messageSid, storeError: isIdempotencyStoreError(error), err: scrubText(String(error)) },
        'idempotency store unavailable; relying on the inbox dedup',
      );
      reply = { status: 200, headers: { 'content-type': 'text/xml' }, body: await handle(ctx, sms, payload, answerBy, answer), duplicate: false };
      // A redelivery may find the store back (empty) while the database is hung: it could
      // then neither replay this answer from the inbox row nor know it was given. Keep it in
      // the store as soon as the store takes it, as the dedup would have.
      rememberAnswer(ctx, { headers: req.headers, params }, sms.messageSid, reply.body);
    }
    if (reply.duplicate) {
      metrics.duplicates.inc({ provider: 'twilio_sms' });
      logger.info({ messageSid: sms.messageSid }, 'duplicate SMS webhook answered with the stored TwiML');
    }
    span.setAttributes({ 'messaging.message.id': sms.messageSid, 'http.response.status_code': reply.status, 'app.sms.duplicate': reply.duplicate });
    sendReply(res, reply);
  }
}

/**
 * Writes the answer as `res.send` would (Express sets `charset=utf-8` on the content type),
 * without the ETag `res.send` adds: it hashes the body for a POST answer nobody revalidates,
 * and to hash it turns the body into a Buffer, so the headers and the body leave in two
 * chunks (a `writev`) where a string body goes out with the headers in one write.
 */
function sendReply(res: Response, reply: { readonly status: number; readonly headers: Record<string, string>; readonly body: string }): void {
  res.status(reply.status).set(reply.headers);
  if (res.get('Content-Type') === undefined) res.type('html'); // what res.send does with a string
  res.setHeader('Content-Length', Buffer.byteLength(reply.body));
  res.end(reply.body);
}

async function handle(ctx: AppContext, sms: InboundSms, params: Record<string, string>, answerBy: number, answer: AnswerWatch): Promise<string> {
  // One transaction records and processes the SMS (receive-inbound.ts): nothing of it is
  // stored until it commits, so every way out of here stores the event before answering:
  // the commit itself, the inbox row written `failed` (a failure) or `received` (too slow),
  // or the spool (the database cannot take it). The wait is bounded by the inline budget
  // and by the inbox write's share of Twilio's 15 s.
  const { metrics } = ctx;
  const row = newInboxRow(activeTraceparent());
  const channel = new ReplyChannel();
  const receiving = receiveInbound(ctx.db, sms, params, ctx.processing, channel, row);
  // The last moment the write is waited for: what is left of Twilio's 15 s stores the event
  // some other way (a `received` row, or the spool) and answers.
  const writeBy = answerBy - spoolReserveMs;
  let waited: Waited<ReceivedInbound>;
  try {
    waited = await withinBudget(receiving, channel, Math.max(0, Math.min(ctx.inlineBudgetMs, writeBy - Date.now())), writeBy, answer.lost);
  } catch (error) {
    return failed(ctx, sms, params, row, error, answerBy);
  }
  if (waited.kind === 'writing') return answerWhileWriting(ctx, sms, params, row, receiving, { inboxId: row.id, purpose: waited.purpose }, writeBy);
  if (waited.kind === 'closed') {
    // Too slow (a slow extractor, or a hung database): the customer hears from us now, the
    // reply follows through the outbox when the transaction commits, taking over the
    // `received` row written here (the event's record until then: a Twilio retry, or the
    // sweep after a crash, finds it). A failure later marks it `failed` and queues a retry.
    receiving.then(
      (outcome) => afterProcessing(ctx, sms, outcome),
      (error: unknown) => void failedLate(ctx, sms, params, row, error),
    );
    try {
      const stored = await settleBy(recordReceivedInbound(ctx.db.prisma, sms, params, row), writeBy - Date.now());
      if (stored === undefined) throw new InboxWriteTimeout(writeBy);
      if (!stored) {
        // Another delivery's row was there (this transaction will roll back on it): when that
        // delivery was answered inline, this answer must be the same reply, not the holding
        // text (Twilio may act on this one; nothing else would send the reply).
        const stored = await settleBy(claimStoredAnswer(ctx.db.prisma, sms.messageSid), Math.max(minStoredReadMs, writeBy - Date.now()));
        if (stored !== undefined) return replay(ctx, sms, stored, { claimed: true });
      }
    } catch (error) {
      return unrecorded(ctx, sms, params, error);
    }
    metrics.webhooks.inc({ provider: 'twilio_sms', outcome: 'holding_reply' });
    return messageTwiml(texts.holding);
  }
  const { outcome } = waited;
  metrics.webhooks.inc({ provider: 'twilio_sms', outcome: 'processed' });
  if (outcome.kind === 'already_processed') return replay(ctx, sms, outcome.answer);
  afterProcessing(ctx, sms, outcome);
  if (outcome.viaTwiml && answer.isLost())
    return answerLost(ctx, sms, { inboxId: outcome.inboxId, purpose: replyPurpose(outcome.result) }, outcome.result.reply);
  // Not in the TwiML: the reply is in the outbox (a stored row an earlier delivery answered
  // with the holding text), and this answer repeats that one.
  return messageTwiml(outcome.viaTwiml ? outcome.result.reply : texts.holding);
}

/**
 * The event could not be stored in the database (its error, or no answer within its share
 * of Twilio's deadline): refused input is answered politely and alerted (spooling it would
 * retry it forever); anything else is spooled for the sweep, with a holding reply (and,
 * from {@link answerWhileWriting}, the write still in flight: the drain hands its reply to
 * the outbox if it committed).
 */
async function unrecorded(ctx: AppContext, sms: InboundSms, params: Record<string, string>, error: unknown, inFlightWrite?: InFlightWrite): Promise<string> {
  const { logger, metrics } = ctx;
  if (isRefusedInput(error)) {
    // The database refused this message itself (it is up): spooling it would retry it
    // forever. Tell the sender, and the operator, instead.
    metrics.webhooks.inc({ provider: 'twilio_sms', outcome: 'refused' });
    logger.error({ messageSid: sms.messageSid, err: describeError(error) }, 'inbound SMS refused by the database; not spooled');
    ctx.alert({
      type: 'INBOUND_REFUSED',
      severity: 'MEDIUM',
      resourceId: sms.messageSid,
      title: 'An inbound SMS could not be stored',
      message: `The database refused message ${sms.messageSid}: ${describeError(error).slice(0, 200)}`,
    });
    return messageTwiml(texts.politeError);
  }
  const spooled = { provider: 'twilio_sms', receivedAt: new Date().toISOString(), payload: params } as const;
  await ctx.spool.put(inFlightWrite === undefined ? spooled : { ...spooled, inFlightWrite }, { redisTimeoutMs: spoolRedisTimeoutMs });
  metrics.webhooks.inc({ provider: 'twilio_sms', outcome: inFlightWrite === undefined ? 'spooled' : 'spooled_write_in_flight' });
  logger.error(
    { messageSid: sms.messageSid, err: describeError(error), writeInFlight: inFlightWrite !== undefined },
    'database unavailable: inbound SMS spooled for later processing',
  );
  ctx.alert({ type: 'DATABASE_UNAVAILABLE', severity: 'HIGH', title: 'Inbound SMS spooled: database unavailable', message: describeError(error) });
  return messageTwiml(texts.holding);
}

/**
 * A redelivery of an SMS already processed, which the idempotency store did not answer
 * (Redis down or restarted empty, the record expired, or a concurrent delivery waiting on
 * the inbox row's lock): the first delivery's answer again. Twilio acts only on the answer
 * to its last attempt, so the reply given to an earlier one may never have reached the
 * customer; replaying it is what makes it arrive once.
 */
async function replay(ctx: AppContext, sms: InboundSms, found: StoredAnswer | undefined, options: { readonly claimed?: boolean } = {}): Promise<string> {
  ctx.metrics.duplicates.inc({ provider: 'twilio_sms' });
  // Repeating an inline reply claims it first, so the delivery that processed it cannot also
  // move it to the outbox (its own answer lost: domain/inline-reply.ts). A claim the database
  // does not answer in time repeats the reply as read: losing it is worse than the rare double.
  let answer = found;
  if (found?.via === 'twiml' && options.claimed !== true) {
    try {
      answer = (await settleBy(claimStoredAnswer(ctx.db.prisma, sms.messageSid), minStoredReadMs)) ?? found;
    } catch (error) {
      ctx.logger.warn({ messageSid: sms.messageSid, err: describeError(error) }, 'could not claim the stored inline reply; repeating it as read');
    }
  }
  ctx.logger.info({ messageSid: sms.messageSid, via: answer?.via ?? 'none' }, 'SMS already processed: answered with its first answer from the inbox row');
  // The reply is on its way through the outbox (or the row predates stored replies): the
  // first answer was the holding text.
  return answerTwiml(answer);
}

/** The TwiML of a stored answer: the reply itself when it went inline, else the holding text (the reply is in the outbox, or on its way there). */
function answerTwiml(answer: StoredAnswer | undefined): string {
  return messageTwiml(answer?.via === 'twiml' ? answer.reply : texts.holding);
}

/** How the webhook's wait for processing ended. */
type Waited<T> =
  /** Processing finished in time. */
  | { readonly kind: 'done'; readonly outcome: T }
  /** The budget ran out (or Twilio left) before processing claimed the TwiML answer: its reply goes through the outbox. */
  | { readonly kind: 'closed' }
  /** Processing had claimed the TwiML answer, and its write was still in flight at the last moment it could be waited for. */
  | { readonly kind: 'writing'; readonly purpose: OutboundPurpose };

/**
 * Waits for processing for `budgetMs` (less once the answer can no longer reach Twilio:
 * `lost`), then closes the channel. A write that had claimed the TwiML answer by then is
 * about to commit and is waited for, but only until `writeBy`: a database that hangs with
 * the statement on the wire would otherwise hold the answer past Twilio's 15 s (issue 12's
 * chaos run, answered after 15.045 s).
 */
async function withinBudget<T>(processing: Promise<T>, channel: ReplyChannel, budgetMs: number, writeBy: number, lost: Promise<void>): Promise<Waited<T>> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), budgetMs);
  });
  try {
    // Twilio gone before processing chose the TwiML path: the reply goes through the outbox.
    const first = await Promise.race([processing, deadline, lost.then(() => 'deadline' as const)]);
    if (first !== 'deadline') return { kind: 'done', outcome: first };
  } finally {
    clearTimeout(timer);
  }
  // Not closed: processing claimed the TwiML answer (for a reply of `purpose`) and is committing.
  const purpose = channel.claimedPurpose;
  if (channel.close() || purpose === undefined) return { kind: 'closed' };
  const late = await settleBy(processing, writeBy - Date.now());
  if (late !== undefined) return { kind: 'done', outcome: late };
  return { kind: 'writing', purpose };
}

/**
 * The write had claimed the TwiML answer and was still in flight at `writeBy` (the database
 * hung with the statement on the wire). Whether it commits is unknown here, so the event is
 * spooled, marked with the write, and answered with the holding text within Twilio's time.
 * A write that commits (or had committed, its answer lost to a reset connection) hands its
 * reply to the outbox: here as soon as it settles, and at the latest when the spool is
 * drained. A write that failed leaves the event to its `failed` row, or to the spooled copy.
 */
function answerWhileWriting(
  ctx: AppContext,
  sms: InboundSms,
  params: Record<string, string>,
  row: InboxRowRef,
  receiving: Promise<ReceivedInbound>,
  write: InFlightWrite,
  writeBy: number,
): Promise<string> {
  receiving.then(
    (outcome) => {
      afterProcessing(ctx, sms, outcome);
      if (outcome.kind === 'processed' && outcome.viaTwiml) void handOverLateReply(ctx, sms, write);
    },
    (error: unknown) => {
      // PostgreSQL may have run the statement before the connection failed: its row decides.
      void handOverLateReply(ctx, sms, write);
      void failedLate(ctx, sms, params, row, error);
    },
  );
  return unrecorded(ctx, sms, params, new InboxWriteTimeout(writeBy), write);
}

/** Whether this webhook's answer can still reach Twilio. */
interface AnswerWatch {
  /** True once the connection closed before the answer was fully written. */
  isLost(): boolean;
  /** Resolves when that happens (never otherwise). */
  readonly lost: Promise<void>;
}

/**
 * Watches the response: Twilio gives up after 15 s and closes the connection (a database
 * slower than that), and an answer written after that reaches no one.
 */
function watchAnswer(res: Response): AnswerWatch {
  let lost = false;
  let markLost: () => void = () => undefined;
  const whenLost = new Promise<void>((resolve) => {
    markLost = resolve;
  });
  res.once('close', () => {
    if (res.writableFinished) return;
    lost = true;
    markLost();
  });
  return { isLost: () => lost, lost: whenLost };
}

/**
 * The one transaction failed and rolled back: the inbox row is written now (`failed`, or
 * `dead_letter` for an invariant violation) within the inbox write's share of Twilio's
 * deadline, then the sender gets the holding text and a retry is queued (or, for an
 * invariant violation, a polite error and an alert).
 */
async function failed(ctx: AppContext, sms: InboundSms, params: Record<string, string>, row: InboxRowRef, error: unknown, answerBy: number): Promise<string> {
  const { logger, metrics } = ctx;
  let inbox: FailedInbound;
  try {
    const recorded = await settleBy(recordFailedInbound(ctx.db.prisma, sms, params, row, error), answerBy - spoolReserveMs - Date.now());
    if (recorded === undefined) throw new InboxWriteTimeout(answerBy - spoolReserveMs);
    inbox = recorded;
  } catch (recordError) {
    // The processing error was the database's too, most likely (it is down, or refused the input).
    return unrecorded(ctx, sms, params, recordError);
  }
  // Another delivery processed it first (this duplicate failed on what that one wrote, a
  // unique key): its answer again.
  if (!inbox.recorded) return replay(ctx, sms, inbox.answer);
  if (isHardeningError(error) && error.code === 'INVARIANT_VIOLATION') {
    metrics.webhooks.inc({ provider: 'twilio_sms', outcome: 'invariant_violation' });
    logger.error({ messageSid: sms.messageSid, err: error.message }, 'invariant violation while processing an SMS');
    ctx.alert({
      type: 'INVARIANT_VIOLATION',
      severity: 'HIGH',
      resourceId: sms.messageSid,
      title: 'Invariant violation on an inbound SMS',
      message: error.message,
    });
    return messageTwiml(texts.politeError);
  }
  metrics.webhooks.inc({ provider: 'twilio_sms', outcome: 'retry_queued' });
  logger.warn(
    { messageSid: sms.messageSid, from: maskPhoneNumber(sms.from), err: scrubText(String(error)) },
    'SMS processing failed; holding reply sent, retry queued',
  );
  // The row is stored `failed`, which the sweep queues again: the answer waits for the queue
  // only within Twilio's deadline (BullMQ waits for a reconnecting Redis with no timeout of
  // its own; the chaos run's combined scenario held an answer past Twilio's 15 s on it).
  await settleBy(queueRetry(ctx, sms, inbox.id, params), answerBy - Date.now());
  return messageTwiml(texts.holding);
}

/**
 * The transaction failed after the holding reply went out: the inbox row is marked `failed`
 * and a retry queued. Never throws: a database still down leaves the `received` row (or the
 * spooled copy) to the sweep.
 */
async function failedLate(ctx: AppContext, sms: InboundSms, params: Record<string, string>, row: InboxRowRef, error: unknown): Promise<void> {
  const { logger } = ctx;
  logger.warn(
    { messageSid: sms.messageSid, from: maskPhoneNumber(sms.from), err: scrubText(String(error)) },
    'SMS processing failed after the holding reply; retry queued',
  );
  try {
    const inbox = await recordFailedInbound(ctx.db.prisma, sms, params, row, error);
    if (inbox.recorded && inbox.status === 'failed') await queueRetry(ctx, sms, inbox.id, params);
  } catch (recordError) {
    // The row stays `received` (or the event is in the spool): the sweep queues it.
    logger.error({ messageSid: sms.messageSid, err: describeError(recordError) }, 'could not mark the failed SMS for a retry; the sweep will queue it');
  }
}

/**
 * Queues a processing attempt of a stored inbox row. When the queue refuses (Redis down or
 * reconnecting), the raw event is spooled: the sweep's spool drain (every 30 s) finds the row
 * and queues it, where the sweep's own look for orphan rows waits two minutes.
 */
async function queueRetry(ctx: AppContext, sms: InboundSms, inboxId: string, params: Record<string, string>): Promise<void> {
  try {
    await queueInboundRetry(ctx, inboxId, sms.messageSid);
  } catch (queueError) {
    ctx.logger.error({ messageSid: sms.messageSid, err: scrubText(String(queueError)) }, 'could not queue the retry; spooled for the sweep');
    await ctx.spool
      .put({ provider: 'twilio_sms', receivedAt: new Date().toISOString(), payload: params }, { redisTimeoutMs: spoolRedisTimeoutMs })
      .catch((spoolError: unknown) => {
        // The inbox row stays `failed` or `received`: the sweep queues such rows again.
        ctx.logger.error({ messageSid: sms.messageSid, err: scrubText(String(spoolError)) }, 'could not spool the retry either; the sweep will find the row');
      });
  }
}

/**
 * A redelivery while the first delivery is still in flight: makes sure the event is stored
 * (a `received` row of its own when the first delivery has stored nothing yet) and, when
 * this wrote the row, queues its processing. Exactly-once holds: the first delivery's
 * transaction, if alive, finds the row and rolls back (receive-inbound.ts). The database
 * not answering in time spools the event instead.
 */
async function storeInFlight(ctx: AppContext, sms: InboundSms, params: Record<string, string>, answerBy: number): Promise<StoredAnswer | undefined> {
  const row = newInboxRow(activeTraceparent());
  // The dedup's wait (10 s) has spent most of the answer budget by now: the database still
  // gets a short while (Twilio's 15 s leave room for it and the spool).
  const deadline = Math.max(Date.now() + minStoredReadMs, answerBy - spoolReserveMs);
  try {
    const inserted = await settleBy(recordReceivedInbound(ctx.db.prisma, sms, params, row), deadline - Date.now());
    if (inserted === undefined) throw new InboxWriteTimeout(deadline);
    if (inserted) {
      await queueRetry(ctx, sms, row.id, params);
      return undefined;
    }
  } catch (error) {
    ctx.logger.warn({ messageSid: sms.messageSid, err: describeError(error) }, 'redelivery of an SMS in flight could not be stored; spooled');
    await ctx.spool.put({ provider: 'twilio_sms', receivedAt: new Date().toISOString(), payload: params }, { redisTimeoutMs: spoolRedisTimeoutMs });
    return undefined;
  }
  // The row was there (the insert waited for an uncommitted one on the unique index): what
  // the delivery that wrote it was answered, when it was processed, claimed for this answer
  // (that delivery's own answer may have been lost: domain/inline-reply.ts).
  try {
    return await settleBy(claimStoredAnswer(ctx.db.prisma, sms.messageSid), deadline - Date.now());
  } catch (error) {
    ctx.logger.warn(
      { messageSid: sms.messageSid, err: describeError(error) },
      'could not read the stored answer of an SMS in flight; answering with the holding text',
    );
    return undefined;
  }
}

/** When {@link rememberAnswer} tries again after a store failure (ms after the answer); Twilio's retries come within about 15 s. */
const rememberDelaysMs = [0, 1000, 2000, 4000, 8000];

/**
 * Records the answer of a delivery the idempotency store could not claim for (Redis down or
 * restarting) in the store, in the background, as soon as the store takes it: a redelivery
 * then gets the same answer from the store, even while the database (where the inbox row
 * keeps it) is hung. Issue 11's chaos run: the first copy answered inline with Redis
 * restarting, its redelivery found Redis back and empty, the database hung, and answered the
 * holding text with the reply already gone out inline only.
 *
 * A key already recorded or in progress is left alone (its holder's answer stands); a store
 * still failing after the last try leaves the inbox row as the only record, as before.
 */
function rememberAnswer(ctx: AppContext, request: { headers: Request['headers']; params: Record<string, string> }, messageSid: string, body: string): void {
  const attempt = async (index: number): Promise<void> => {
    try {
      const out = await ctx.dedup.twilio(request, () => ({ status: 200, headers: { 'content-type': 'text/xml' }, body }), {
        kind: 'sms',
        onInProgress: 'error',
      });
      // Held: a claim of this delivery's that reached the store after it gave up on it (the
      // store releases such a claim right behind it), or another delivery's. Tried again.
      if (out.inProgress) throw new Error('the idempotency key is held by a claim in flight');
      if (!out.duplicate) ctx.logger.info({ messageSid }, 'answer of an SMS the idempotency store had missed is now recorded in it');
    } catch (error) {
      const next = rememberDelaysMs[index + 1];
      if (next === undefined) {
        ctx.logger.warn({ messageSid, err: scrubText(String(error)) }, 'could not record the SMS answer in the idempotency store; the inbox row keeps it');
        return;
      }
      setTimeout(() => void attempt(index + 1), next - rememberDelaysMs[index]!).unref();
    }
  };
  void attempt(0);
}

/** The inbox write did not answer within its share of Twilio's deadline (a hung database). */
class InboxWriteTimeout extends Error {
  constructor(deadline: number) {
    super(`the database did not store the inbound SMS by ${new Date(deadline).toISOString()} (its share of Twilio's 15 s); spooled instead`);
    this.name = 'InboxWriteTimeout';
  }
}
