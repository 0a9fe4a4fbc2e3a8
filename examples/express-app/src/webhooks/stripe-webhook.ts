import express, { Router } from 'express';
import type Stripe from 'stripe';
import { z } from 'zod';
import { scrubText } from '@hardening/core';
import { createPrismaStore, createWebhookDedup, type WebhookHandleOptions, type WebhookResult } from '@hardening/idempotency';
import type { AppContext } from '../app-context.js';
import { activatePayment } from '../domain/onboarding.js';
import { sendProblem } from '../http/problem.js';
import { issuePaths, storableText } from '../ingest/input-text.js';
import { stripeWebhookSdk } from '../providers/webhook-sdks.js';

/**
 * A redelivery while the first delivery of the event is still processed waits for its
 * answer (and gets it), rather than a 409 Stripe counts as a failed delivery. Under
 * Stripe's own timeout, margin kept.
 *
 * Once the handler has run, its answer is given even when the dedup record cannot be
 * written (`recordTimeoutMs`): the record is retried in the background until the lease
 * ends. Issue 11's chaos run: the handler ran, the record failed (PostgreSQL cut), the app
 * answered 500 and Stripe's retry ran the handler again. What the 2xx costs when the record
 * never lands: a redelivery runs the handler again, which is safe because it is idempotent
 * on the database's state (activatePayment changes a client at most once).
 */
const stripeDedupOptions: WebhookHandleOptions = { onInProgress: 'wait', waitTimeoutMs: 8000, recordTimeoutMs: 1500 };

/** An id-like string the database can store and an index can hold. */
const storableId = z
  .string()
  .transform(storableText)
  .refine((id) => id.length > 0 && Buffer.byteLength(id) <= 255, 'must be 1 to 255 bytes');
/** A client reference is usable only as a string; anything else (an object, a number) is no reference. */
const reference = z.unknown().transform((value) => (typeof value === 'string' && value.length > 0 && value.length <= 255 ? storableText(value) : undefined));

/** The fields of a Stripe event the app relies on: its id (the dedup key), type and object. */
const stripeEvent = z.object({
  id: storableId,
  type: z.string().min(1).max(255),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

/** A completed Checkout Session: which client paid. */
const checkoutSession = z.object({
  id: storableId,
  client_reference_id: reference,
  metadata: z.object({ clientId: reference }).partial().nullish().catch(undefined),
});

/**
 * POST /webhooks/stripe: the signature is verified with the Stripe SDK's
 * `webhooks.constructEvent` over the raw body (403 otherwise), the event deduplicated on its
 * id (Stripe retries for days, and may deliver out of order: handlers are idempotent and
 * order-tolerant), and `checkout.session.completed` activates the client's payment. The
 * dedup claims in PostgreSQL, then in Redis when configured (see `durable` below); a
 * redelivery while the first is still processed waits for its answer; when no store can
 * record the event, Stripe gets a 503, which it retries.
 */
export function stripeWebhookRoutes(ctx: AppContext): Router {
  const router = Router();
  const { logger, metrics } = ctx;
  const secret = ctx.config.env.STRIPE_WEBHOOK_SECRET;
  // Started here too, for an app built without buildContext; a failure surfaces on the first request.
  if (secret !== undefined) stripeWebhookSdk.load().catch(() => {});
  if (secret === undefined) logger.warn({}, 'STRIPE_WEBHOOK_SECRET is not set: every Stripe webhook will be refused with 403');
  // With Redis, a Stripe event is claimed in PostgreSQL first, then in Redis inside that
  // claim. PostgreSQL keeps the record through a Redis restarted empty (the chaos run's
  // redis-killed saw an event handled just before Redis died run again on Stripe's
  // redelivery, when Redis alone held the record). Redis keeps it while PostgreSQL fails: the
  // event is then claimed in Redis alone (no 5xx for a database known to be down), and a
  // redelivery once PostgreSQL is back finds Redis's record inside its new PostgreSQL claim
  // and replays it. Only a triple fault (handled in Redis alone while PostgreSQL failed, Redis
  // then restarted empty, redelivered after both) runs the handler twice; the handler is
  // idempotent on the database (a payment activates a client once). Stripe sends a few events
  // per client: the extra round trips cost nothing that matters.
  const durable = ctx.redis === undefined ? undefined : createWebhookDedup({ store: createPrismaStore({ prisma: ctx.db.prisma }), logger });
  router.post('/webhooks/stripe', express.raw({ type: '*/*', limit: '1mb' }), async (req, res) => {
    const signature = req.get('stripe-signature');
    let event: Stripe.Event;
    // Outside the try: an SDK that fails to load is a 500 for the error handler, not a bad signature.
    const stripe = secret === undefined || signature === undefined ? undefined : (stripeWebhookSdk.loaded() ?? (await stripeWebhookSdk.load()));
    try {
      if (secret === undefined || signature === undefined || stripe === undefined) throw new Error('missing signature or secret');
      event = stripe.webhooks.constructEvent(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), signature, secret);
    } catch (error) {
      metrics.webhooks.inc({ provider: 'stripe', outcome: 'bad_signature' });
      logger.warn({ err: scrubText(String(error)) }, 'Stripe webhook refused: signature check failed');
      sendProblem(res, { title: 'Forbidden', status: 403, detail: 'Missing or invalid Stripe-Signature.' });
      return;
    }
    // Signed by Stripe, yet not the shape the app relies on: a retry would not fix it, and
    // Stripe retries anything but 2xx for days. Acknowledge, log and count it.
    const shape = stripeEvent.safeParse(event);
    if (!shape.success) {
      metrics.webhooks.inc({ provider: 'stripe', outcome: 'malformed' });
      logger.warn({ problems: issuePaths(shape.error) }, 'Stripe event ignored: malformed');
      res.status(200).json({ received: true, ignored: 'malformed event' });
      return;
    }
    const session = shape.data.type === 'checkout.session.completed' ? checkoutSession.safeParse(shape.data.data.object) : undefined;
    if (session !== undefined && !session.success) {
      metrics.webhooks.inc({ provider: 'stripe', outcome: 'malformed' });
      logger.warn({ eventId: shape.data.id, problems: issuePaths(session.error) }, 'Stripe checkout session ignored: malformed');
      ctx.alert({
        type: 'PAYMENT_UNMATCHED',
        severity: 'MEDIUM',
        resourceId: shape.data.id,
        title: 'Payment for no known client',
        message: `Checkout event ${shape.data.id} could not be read.`,
      });
      res.status(200).json({ received: true, ignored: 'malformed checkout session' });
      return;
    }
    let started = false;
    const handler = async (verified: { id: string }) => {
      started = true;
      if (session?.success === true) {
        const clientId = session.data.client_reference_id ?? session.data.metadata?.clientId ?? undefined;
        const client = clientId === undefined ? undefined : await ctx.db.prisma.$transaction((tx) => activatePayment(tx, clientId, ctx.config.systemNumber));
        if (client === undefined) {
          metrics.webhooks.inc({ provider: 'stripe', outcome: 'unmatched' });
          ctx.alert({
            type: 'PAYMENT_UNMATCHED',
            severity: 'MEDIUM',
            resourceId: verified.id,
            title: 'Payment for no known client',
            message: `Checkout ${session.data.id} completed without a client we know.`,
          });
        } else {
          metrics.webhooks.inc({ provider: 'stripe', outcome: 'payment_activated' });
          logger.info({ clientId: client.id, eventId: verified.id }, 'payment activated');
        }
      } else {
        metrics.webhooks.inc({ provider: 'stripe', outcome: 'ignored' });
      }
      // One line per run of the handler (duplicates replayed by the dedup never reach it):
      // the chaos harness counts these to check each event was processed exactly once.
      logger.info({ eventId: verified.id, type: shape.data.type }, 'Stripe event processed');
      return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"received":true}' };
    };
    const verifiedEvent = { id: shape.data.id, type: shape.data.type };
    const inRedis = () => ctx.dedup.stripe(verifiedEvent, handler, stripeDedupOptions);
    let claimedInPostgres = false;
    // Inside the PostgreSQL claim: Redis's record (kept while PostgreSQL failed), or the handler.
    const insideDurableClaim = async () => {
      claimedInPostgres = true;
      try {
        const inner = await inRedis();
        // Another delivery holds the Redis claim (one that went to Redis alone): never store its
        // 409 as this event's answer; the PostgreSQL claim is released and Stripe retries.
        if (inner.inProgress) throw new Error('the event is being handled by a delivery claimed in Redis alone');
        return { status: inner.status, headers: inner.headers, body: inner.body };
      } catch (error) {
        if (started) throw error;
        logger.warn({ eventId: verifiedEvent.id, err: scrubText(String(error)) }, 'Redis unavailable; Stripe event deduplicated in PostgreSQL alone');
        return handler(verifiedEvent);
      }
    };
    let out: WebhookResult | undefined;
    let failure: unknown;
    try {
      out = durable === undefined ? await inRedis() : await durable.stripe(verifiedEvent, insideDurableClaim, stripeDedupOptions);
    } catch (error) {
      if (started) throw error;
      failure = error;
      if (durable !== undefined && !claimedInPostgres) {
        // PostgreSQL could not claim the event: Redis alone (see `durable`).
        logger.warn({ eventId: verifiedEvent.id, err: scrubText(String(error)) }, 'database unavailable; Stripe event deduplicated in Redis alone');
        metrics.webhooks.inc({ provider: 'stripe', outcome: 'dedup_fallback' });
        try {
          out = await inRedis();
        } catch (redisError) {
          if (started) throw redisError;
          failure = redisError;
        }
      }
    }
    if (out === undefined) {
      // No store could record the event: nothing was done, and Stripe retries a 503 (for days).
      logger.error({ eventId: verifiedEvent.id, err: scrubText(String(failure)) }, 'Stripe event not processed: it could not be recorded; Stripe will retry');
      metrics.webhooks.inc({ provider: 'stripe', outcome: 'store_unavailable' });
      res.set('Retry-After', '30');
      sendProblem(res, { title: 'Service unavailable', status: 503, detail: 'The event could not be recorded; retry later.' });
      return;
    }
    if (out.duplicate) metrics.duplicates.inc({ provider: 'stripe' });
    res.status(out.status).set(out.headers).send(out.body);
  });
  return router;
}
