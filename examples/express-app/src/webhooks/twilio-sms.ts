import { Router } from 'express';
import type { Request } from 'express';
import { isHardeningError, maskPhoneNumber, scrubText } from '@hardening/core';
import { isIdempotencyStoreError } from '@hardening/idempotency';
import type { AppContext } from '../app-context.js';
import { describeError, isRefusedInput } from '../db/refused-input.js';
import { processInbound, recordInbound, type InboundOutcome } from '../domain/inbound.js';
import { texts } from '../domain/messages.js';
import { toE164 } from '../domain/phone.js';
import { ReplyChannel } from '../domain/reply-channel.js';
import type { InboundSms } from '../domain/routing.js';
import { deliveryLog } from '../jobs/delivery-log.js';
import { sendProblem } from '../http/problem.js';
import { providerSid, storableFields } from './input-text.js';
import { verifyTwilioSignature } from './twilio-signature.js';
import { messageTwiml } from './twiml.js';

/** Reads the SMS out of Twilio's form parameters; undefined when they are malformed. */
export function readInboundSms(params: Record<string, unknown>): InboundSms | undefined {
  const sid = providerSid.safeParse(params.MessageSid);
  const messageSid = sid.success ? sid.data : undefined;
  const from = toE164(params.From);
  const to = toE164(params.To);
  if (messageSid === undefined || from === undefined || to === undefined) return undefined;
  return { messageSid, from, to, body: typeof params.Body === 'string' ? params.Body : '' };
}

/** What to do about POOL_EMPTY, in the alert itself (a fresh database has no numbers). */
export const poolEmptyHint = 'Add Twilio numbers to the pool: POST /api/admin/numbers {"numbers":["+15551234567"]} with the admin token; clients waiting for one get it at once.';

/** How long the reply may wait for its idempotency record once processing has answered. */
const recordBudgetMs = 1500;

/** Queues another processing attempt of an inbox row (delivery log + job). */
export async function queueInboundRetry(ctx: AppContext, inboxId: string, messageSid: string): Promise<void> {
  const deliveryId = await deliveryLog.record(ctx.db.prisma, { provider: 'twilio', eventId: messageSid, kind: 'process_inbound' }, { inboxId });
  await ctx.queue.add({ kind: 'process_inbound', deliveryId, payload: { inboxId } });
}

/**
 * POST /sms: Twilio's inbound SMS webhook.
 *
 * 1. The signature is verified (403 otherwise).
 * 2. A Twilio retry of the same MessageSid gets the same TwiML and creates nothing.
 * 3. The raw event is recorded before processing (the inbox row, deduplicated on
 *    MessageSid); if the database cannot take it, it is spooled (Redis or a local file)
 *    and drained later.
 * 4. Processing runs in one transaction. When it finishes within the budget the reply is
 *    the TwiML answer; otherwise the customer gets a polite holding reply at once, the reply
 *    goes out through the outbox when processing commits, and a failed processing is
 *    retried from our side (queue with backoff, dead letter and an alert at the end).
 * 5. An invariant violation answers a polite error and raises INVARIANT_VIOLATION.
 */
export function twilioSmsRoutes(ctx: AppContext): Router {
  const router = Router();
  const { logger, metrics } = ctx;
  router.post(
    '/sms',
    verifyTwilioSignature({ authToken: ctx.config.twilio?.authToken, publicBaseUrl: ctx.config.env.PUBLIC_BASE_URL, logger, metrics }),
    async (req: Request, res) => {
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
      let reply: { status: number; headers: Record<string, string>; body: string; duplicate: boolean };
      // Where the dedup got to, so a store failure is told apart from a processing one.
      let started = false;
      let answer: string | undefined;
      let answered: () => void = () => {};
      const processed = new Promise<void>((resolve) => (answered = resolve));
      const recorded = ctx.dedup
        .twilio(
          { headers: req.headers, params },
          async () => {
            started = true;
            answer = await handle(ctx, sms, payload);
            answered();
            return answer;
          },
          { kind: 'sms' },
        )
        .then(
          (out) => ({ out }),
          (error: unknown) => ({ error }),
        );
      // Once processing has its answer, recording it may not hold the answer back: the
      // store retries a failed record for as long as its lease (60 s), and Twilio gives up
      // after 15 s, taking the only copy of the reply with it.
      let timer: NodeJS.Timeout | undefined;
      const late = processed.then(() => new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), recordBudgetMs))));
      const settled = await Promise.race([recorded, late]);
      clearTimeout(timer);
      if (settled === 'late' || ('error' in settled && answer !== undefined)) {
        // Processed, but the store could not (yet) record the reply: the reply is still ours
        // to give (it may be the only copy of it; the inbox row guards against a rerun).
        const err = settled === 'late' ? 'still recording' : scrubText(String(settled.error));
        logger.warn({ messageSid: sms.messageSid, err }, 'idempotency store could not record the SMS reply; answering with it anyway');
        if (settled === 'late') void recorded.then((r) => 'error' in r && logger.warn({ messageSid: sms.messageSid, err: scrubText(String(r.error)) }, 'idempotency store failed to record an SMS reply'));
        reply = { status: 200, headers: { 'content-type': 'text/xml' }, body: answer!, duplicate: false };
      } else if ('out' in settled) {
        const { out } = settled;
        reply = { status: out.status, headers: out.headers, body: out.body, duplicate: out.duplicate };
      } else if (started) {
        throw settled.error;
      } else {
        // The idempotency store itself is down (its error, or the database breaker's when
        // the store is the database): the inbox row (deduplicated on MessageSid) still
        // prevents double processing, so carry on without it.
        const { error } = settled;
        logger.warn({ messageSid: sms.messageSid, storeError: isIdempotencyStoreError(error), err: scrubText(String(error)) }, 'idempotency store unavailable; relying on the inbox dedup');
        reply = { status: 200, headers: { 'content-type': 'text/xml' }, body: await handle(ctx, sms, payload), duplicate: false };
      }
      if (reply.duplicate) {
        metrics.duplicates.inc({ provider: 'twilio_sms' });
        logger.info({ messageSid: sms.messageSid }, 'duplicate SMS webhook answered with the stored TwiML');
      }
      res.status(reply.status).set(reply.headers).send(reply.body);
    },
  );
  return router;
}

async function handle(ctx: AppContext, sms: InboundSms, params: Record<string, string>): Promise<string> {
  const { logger, metrics } = ctx;
  let inbox: { id: string; status: string; duplicate: boolean };
  try {
    inbox = await recordInbound(ctx.db.prisma, sms, params);
  } catch (error) {
    if (isRefusedInput(error)) {
      // The database refused this message itself (it is up): spooling it would retry it
      // forever. Tell the sender, and the operator, instead.
      metrics.webhooks.inc({ provider: 'twilio_sms', outcome: 'refused' });
      logger.error({ messageSid: sms.messageSid, err: describeError(error) }, 'inbound SMS refused by the database; not spooled');
      ctx.alert({ type: 'INBOUND_REFUSED', severity: 'MEDIUM', resourceId: sms.messageSid, title: 'An inbound SMS could not be stored', message: `The database refused message ${sms.messageSid}: ${describeError(error).slice(0, 200)}` });
      return messageTwiml(texts.politeError);
    }
    await ctx.spool.put({ provider: 'twilio_sms', receivedAt: new Date().toISOString(), payload: params });
    metrics.webhooks.inc({ provider: 'twilio_sms', outcome: 'spooled' });
    logger.error({ messageSid: sms.messageSid, err: describeError(error) }, 'database unavailable: inbound SMS spooled for later processing');
    ctx.alert({ type: 'DATABASE_UNAVAILABLE', severity: 'HIGH', title: 'Inbound SMS spooled: database unavailable', message: describeError(error) });
    return messageTwiml(texts.holding);
  }
  if (inbox.status === 'processed') return messageTwiml(texts.holding); // a duplicate outside the dedup window
  const channel = new ReplyChannel();
  const processing = processInbound(ctx.db.prisma, inbox.id, ctx.processing, channel);
  let outcome: InboundOutcome | undefined;
  try {
    outcome = await withinBudget(processing, channel, ctx.inlineBudgetMs);
  } catch (error) {
    return failed(ctx, sms, inbox.id, error);
  }
  if (outcome === undefined) {
    // Too slow: the customer hears from us now; the reply follows through the outbox.
    processing.catch((error: unknown) => void failed(ctx, sms, inbox.id, error));
    metrics.webhooks.inc({ provider: 'twilio_sms', outcome: 'holding_reply' });
    return messageTwiml(texts.holding);
  }
  metrics.webhooks.inc({ provider: 'twilio_sms', outcome: 'processed' });
  if (outcome.kind === 'already_processed') return messageTwiml(texts.holding);
  for (const event of outcome.result.events) {
    if (event.type === 'POOL_EMPTY') {
      ctx.alert({ type: 'POOL_EMPTY', severity: 'HIGH', resourceId: event.clientId, title: 'Number pool is empty', message: `A client finished onboarding questions and no number was available. ${poolEmptyHint}` });
    }
  }
  return messageTwiml(outcome.result.reply);
}

/** Resolves with the outcome, or undefined once the budget is spent and the channel closed. */
async function withinBudget(processing: Promise<InboundOutcome>, channel: ReplyChannel, budgetMs: number): Promise<InboundOutcome | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), budgetMs);
  });
  try {
    const first = await Promise.race([processing, deadline]);
    if (first !== 'deadline') return first;
    // Processing already claimed the TwiML path (it is committing): wait for it.
    return channel.close() ? undefined : await processing;
  } finally {
    clearTimeout(timer);
  }
}

async function failed(ctx: AppContext, sms: InboundSms, inboxId: string, error: unknown): Promise<string> {
  const { logger, metrics } = ctx;
  if (isHardeningError(error) && error.code === 'INVARIANT_VIOLATION') {
    metrics.webhooks.inc({ provider: 'twilio_sms', outcome: 'invariant_violation' });
    logger.error({ messageSid: sms.messageSid, err: error.message }, 'invariant violation while processing an SMS');
    ctx.alert({ type: 'INVARIANT_VIOLATION', severity: 'HIGH', resourceId: sms.messageSid, title: 'Invariant violation on an inbound SMS', message: error.message });
    return messageTwiml(texts.politeError);
  }
  metrics.webhooks.inc({ provider: 'twilio_sms', outcome: 'retry_queued' });
  logger.warn({ messageSid: sms.messageSid, from: maskPhoneNumber(sms.from), err: scrubText(String(error)) }, 'SMS processing failed; holding reply sent, retry queued');
  try {
    await queueInboundRetry(ctx, inboxId, sms.messageSid);
  } catch (queueError) {
    // The inbox row stays `failed`: the jobs loop queues failed rows again.
    logger.error({ messageSid: sms.messageSid, err: scrubText(String(queueError)) }, 'could not queue the retry; the sweep will');
  }
  return messageTwiml(texts.holding);
}
