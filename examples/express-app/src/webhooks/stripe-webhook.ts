import express, { Router } from 'express';
import type Stripe from 'stripe';
import { z } from 'zod';
import { scrubText } from '@hardening/core';
import type { WebhookHandleOptions, WebhookResult } from '@hardening/idempotency';
import type { AppContext } from '../app-context.js';
import { sendProblem } from '../http/problem.js';
import { issuePaths, storableText } from '../ingest/input-text.js';
import { createStripeEventProcessor, deferStripeEvent, type StripeEventDeps, type StripeEventFacts } from '../ingest/stripe-event.js';
import { settleBy } from '../settles-within.js';
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

/** How long a redelivery that found the event held may take to keep it (see `deferred`): 8 s + 1.5 s, under Stripe's timeout. */
const deferBudgetMs = 1500;

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

/** What the Stripe route uses of the app context: the event's processor's, and the queue for a deferred event. */
export type StripeRouteDeps = StripeEventDeps & Pick<AppContext, 'queue'>;

/**
 * POST /webhooks/stripe: the signature is verified with the Stripe SDK's
 * `webhooks.constructEvent` over the raw body (403 otherwise), the event deduplicated on its
 * id (Stripe retries for days, and may deliver out of order: handlers are idempotent and
 * order-tolerant), and `checkout.session.completed` activates the client's payment (see
 * `createStripeEventProcessor` for the claims in PostgreSQL and Redis). A redelivery while
 * the first is still processed waits for its answer; when the first still holds the event
 * after that wait, the event is kept for the app to finish once the claim frees, and Stripe
 * gets a 200 (409 only when it cannot be kept). When no store can record the event, Stripe
 * gets a 503, which it retries.
 */
export function stripeWebhookRoutes(ctx: StripeRouteDeps): Router {
  const router = Router();
  const { logger, metrics } = ctx;
  const secret = ctx.config.env.STRIPE_WEBHOOK_SECRET;
  // Started here too, for an app built without buildContext; a failure surfaces on the first request.
  if (secret !== undefined) stripeWebhookSdk.load().catch(() => {});
  if (secret === undefined) logger.warn({}, 'STRIPE_WEBHOOK_SECRET is not set: every Stripe webhook will be refused with 403');
  const processEvent = createStripeEventProcessor(ctx);
  /**
   * A redelivery that found the event still held by another delivery (which may be dead: a
   * SIGKILLed instance keeps its claim for the lease) keeps the event for the app to finish
   * itself, after the claim's lease, and answers 2xx. False when it could not be kept in
   * time: the 409 then asks Stripe to retry.
   */
  const deferred = async (facts: StripeEventFacts, held: WebhookResult): Promise<boolean> => {
    const delayMs = (Number(held.headers['retry-after'] ?? 60) + 1) * 1000;
    try {
      const deliveryId = await settleBy(deferStripeEvent(ctx, facts, delayMs), deferBudgetMs);
      if (deliveryId === undefined) throw new Error(`not kept within ${deferBudgetMs} ms`);
      logger.info({ eventId: facts.id, deliveryId, delayMs }, 'Stripe event held by another delivery; kept to process once its claim frees');
      return true;
    } catch (error) {
      logger.warn(
        { eventId: facts.id, err: scrubText(String(error)) },
        'Stripe event held by another delivery and could not be kept; answered 409 for Stripe to retry',
      );
      return false;
    }
  };
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
    const facts: StripeEventFacts = {
      id: shape.data.id,
      type: shape.data.type,
      ...(session?.success === true
        ? { checkout: { sessionId: session.data.id, clientId: session.data.client_reference_id ?? session.data.metadata?.clientId ?? undefined } }
        : {}),
    };
    const outcome = await processEvent(facts, stripeDedupOptions);
    if (outcome.kind === 'unrecorded') {
      // No store could record the event: nothing was done, and Stripe retries a 503 (for days).
      logger.error({ eventId: facts.id, err: scrubText(String(outcome.error)) }, 'Stripe event not processed: it could not be recorded; Stripe will retry');
      metrics.webhooks.inc({ provider: 'stripe', outcome: 'store_unavailable' });
      res.set('Retry-After', '30');
      sendProblem(res, { title: 'Service unavailable', status: 503, detail: 'The event could not be recorded; retry later.' });
      return;
    }
    const out = outcome.result;
    if (out.inProgress && (await deferred(facts, out))) {
      metrics.duplicates.inc({ provider: 'stripe' });
      res.status(200).json({ received: true, deferred: true });
      return;
    }
    if (out.duplicate) metrics.duplicates.inc({ provider: 'stripe' });
    res.status(out.status).set(out.headers).send(out.body);
  });
  return router;
}
