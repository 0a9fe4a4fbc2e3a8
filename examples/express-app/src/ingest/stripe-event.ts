import { scrubText } from '@hardening/core';
import { createPrismaStore, createWebhookDedup, type WebhookHandleOptions, type WebhookResult } from '@hardening/idempotency';
import type { AppContext } from '../app-context.js';
import { activatePayment } from '../domain/onboarding.js';
import { deliveryLog } from '../jobs/delivery-log.js';

/** What the app acts on in a verified Stripe event (read by the webhook, kept by a deferred job). */
export interface StripeEventFacts {
  /** The event id: the dedup key. */
  readonly id: string;
  readonly type: string;
  /** A readable `checkout.session.completed`: which session, and the client it names if any. */
  readonly checkout?: { readonly sessionId: string; readonly clientId?: string | undefined } | undefined;
}

/** The dedup answered (first run, replay, or "in progress"), or no store could record the event. */
export type StripeEventOutcome = { readonly kind: 'answered'; readonly result: WebhookResult } | { readonly kind: 'unrecorded'; readonly error: unknown };

/** Runs one Stripe event, deduplicated; see {@link createStripeEventProcessor}. */
export type StripeEventProcessor = (event: StripeEventFacts, options: WebhookHandleOptions) => Promise<StripeEventOutcome>;

/** What {@link createStripeEventProcessor} uses of the app context. */
export type StripeEventDeps = Pick<AppContext, 'logger' | 'metrics' | 'redis' | 'db' | 'dedup' | 'alert' | 'config'>;

/** The job a deferred Stripe event runs as. */
export const stripeEventJob = 'process_stripe_event';

/**
 * The app's handling of a Stripe event behind its dedup: `checkout.session.completed`
 * activates the client's payment (an alert when it names no client we know); other types
 * are counted as ignored. The webhook and the deferred job (see {@link deferStripeEvent})
 * run events through this one processor, so both go through the same claims.
 *
 * With Redis, an event is claimed in PostgreSQL first, then in Redis inside that claim.
 * PostgreSQL keeps the record through a Redis restarted empty (the chaos run's redis-killed
 * saw an event handled just before Redis died run again on Stripe's redelivery, when Redis
 * alone held the record). Redis keeps it while PostgreSQL fails: the event is then claimed in
 * Redis alone (no 5xx for a database known to be down), and a redelivery once PostgreSQL is
 * back finds Redis's record inside its new PostgreSQL claim and replays it. Only a triple
 * fault (handled in Redis alone while PostgreSQL failed, Redis then restarted empty,
 * redelivered after both) runs the handler twice; the handler is idempotent on the database
 * (a payment activates a client once). Stripe sends a few events per client: the extra round
 * trips cost nothing that matters.
 *
 * A failure after the handler started is thrown (the caller answers 5xx); a failure of
 * every store before it is `unrecorded` (nothing was done).
 *
 * @example
 * ```ts
 * const process = createStripeEventProcessor(ctx);
 * const outcome = await process({ id: 'evt_1', type: 'invoice.paid' }, { onInProgress: 'wait', waitTimeoutMs: 8000 });
 * ```
 */
export function createStripeEventProcessor(ctx: StripeEventDeps): StripeEventProcessor {
  const { logger, metrics } = ctx;
  const durable = ctx.redis === undefined ? undefined : createWebhookDedup({ store: createPrismaStore({ prisma: ctx.db.prisma }), logger });

  return async (event, options) => {
    let started = false;
    const handler = async () => {
      started = true;
      await act(ctx, event);
      // One line per run of the handler (duplicates replayed by the dedup never reach it):
      // the chaos harness counts these to check each event was processed exactly once.
      logger.info({ eventId: event.id, type: event.type }, 'Stripe event processed');
      return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"received":true}' };
    };
    const verified = { id: event.id, type: event.type };
    const inRedis = () => ctx.dedup.stripe(verified, handler, options);
    let claimedInPostgres = false;
    let heldInRedis: WebhookResult | undefined;
    // Inside the PostgreSQL claim: Redis's record (kept while PostgreSQL failed), or the handler.
    const insideDurableClaim = async () => {
      claimedInPostgres = true;
      let inner: WebhookResult;
      try {
        inner = await inRedis();
      } catch (error) {
        if (started) throw error;
        logger.warn({ eventId: event.id, err: scrubText(String(error)) }, 'Redis unavailable; Stripe event deduplicated in PostgreSQL alone');
        return handler();
      }
      // Another delivery holds the Redis claim (one that went to Redis alone while PostgreSQL
      // failed, maybe still running): never run the handler beside it, nor store its 409 as this
      // event's answer. Thrown so the PostgreSQL claim is released; answered "in progress".
      if (inner.inProgress) {
        heldInRedis = inner;
        throw new Error('the event is being handled by a delivery claimed in Redis alone');
      }
      return { status: inner.status, headers: inner.headers, body: inner.body };
    };
    try {
      return { kind: 'answered', result: durable === undefined ? await inRedis() : await durable.stripe(verified, insideDurableClaim, options) };
    } catch (error) {
      if (started) throw error;
      if (heldInRedis !== undefined) return { kind: 'answered', result: heldInRedis };
      if (durable === undefined || claimedInPostgres) return { kind: 'unrecorded', error };
      // PostgreSQL could not claim the event: Redis alone (see above).
      logger.warn({ eventId: event.id, err: scrubText(String(error)) }, 'database unavailable; Stripe event deduplicated in Redis alone');
      metrics.webhooks.inc({ provider: 'stripe', outcome: 'dedup_fallback' });
      try {
        return { kind: 'answered', result: await inRedis() };
      } catch (redisError) {
        if (started) throw redisError;
        return { kind: 'unrecorded', error: redisError };
      }
    }
  };
}

/** What the event does to the app: a completed checkout activates its client's payment. */
async function act(ctx: StripeEventDeps, event: StripeEventFacts): Promise<void> {
  const { logger, metrics } = ctx;
  if (event.checkout === undefined) {
    metrics.webhooks.inc({ provider: 'stripe', outcome: 'ignored' });
    return;
  }
  const { clientId, sessionId } = event.checkout;
  const client = clientId === undefined ? undefined : await ctx.db.prisma.$transaction((tx) => activatePayment(tx, clientId, ctx.config.systemNumber));
  if (client === undefined) {
    metrics.webhooks.inc({ provider: 'stripe', outcome: 'unmatched' });
    ctx.alert({
      type: 'PAYMENT_UNMATCHED',
      severity: 'MEDIUM',
      resourceId: event.id,
      title: 'Payment for no known client',
      message: `Checkout ${sessionId} completed without a client we know.`,
    });
    return;
  }
  metrics.webhooks.inc({ provider: 'stripe', outcome: 'payment_activated' });
  logger.info({ clientId: client.id, eventId: event.id }, 'payment activated');
}

/**
 * Keeps a verified event for the app to process itself, once the delivery that holds its
 * claim finishes or its lease ends: a delivery-log row (the durable record, which the sweep
 * queues again while it stays open) and a job delayed by `delayMs`. Used when a redelivery
 * finds the event still in progress: a 2xx to Stripe then loses nothing, where a 409 would
 * leave the event to a holder that may be dead (a SIGKILLed instance) and count as a failed
 * delivery on Stripe's side.
 *
 * The event is kept once its row is written. The job is queued without waiting: a queue
 * that does not answer (BullMQ while Redis restarts: the chaos run's combined scenario
 * answered 409 after 1.5 s waiting for it) queues it once it reconnects, and a failure is
 * logged; either way the sweep queues the open row again.
 *
 * @returns The delivery's id.
 * @throws What the database throws: the event was not kept.
 * @example
 * ```ts
 * await deferStripeEvent(ctx, { id: 'evt_1', type: 'invoice.paid' }, 30_000);
 * ```
 */
export async function deferStripeEvent(ctx: Pick<AppContext, 'db' | 'queue' | 'logger'>, event: StripeEventFacts, delayMs: number): Promise<string> {
  const payload = stripeEventPayload(event);
  const deliveryId = await deliveryLog.record(ctx.db.prisma, { provider: 'stripe', eventId: event.id, kind: stripeEventJob }, payload);
  ctx.queue.add({ kind: stripeEventJob, deliveryId, payload }, { delayMs }).catch((error: unknown) => {
    ctx.logger.warn({ eventId: event.id, deliveryId, err: scrubText(String(error)) }, 'deferred Stripe event kept but not queued now; the sweep queues it');
  });
  return deliveryId;
}

/** The job payload (strings only) that {@link stripeEventFromPayload} reads back. */
function stripeEventPayload(event: StripeEventFacts): Record<string, string> {
  const payload: Record<string, string> = { eventId: event.id, type: event.type };
  if (event.checkout !== undefined) {
    payload.sessionId = event.checkout.sessionId;
    if (event.checkout.clientId !== undefined) payload.clientId = event.checkout.clientId;
  }
  return payload;
}

/**
 * The event a deferred job carries.
 *
 * @throws Error when the payload has no event id or type (a row not written by {@link deferStripeEvent}).
 */
export function stripeEventFromPayload(payload: Readonly<Record<string, string>>): StripeEventFacts {
  const { eventId, type, sessionId, clientId } = payload;
  if (eventId === undefined || type === undefined) throw new Error('deferred Stripe event without its id or type');
  return { id: eventId, type, ...(sessionId === undefined ? {} : { checkout: { sessionId, clientId } }) };
}
