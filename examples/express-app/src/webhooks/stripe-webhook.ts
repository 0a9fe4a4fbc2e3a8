import express, { Router } from 'express';
import Stripe from 'stripe';
import { scrubText } from '@hardening/core';
import type { AppContext } from '../app-context.js';
import { activatePayment } from '../domain/onboarding.js';
import { sendProblem } from '../http/problem.js';

/**
 * POST /webhooks/stripe: the signature is verified with the Stripe SDK's
 * `webhooks.constructEvent` over the raw body (403 otherwise), the event deduplicated on its
 * id (Stripe retries for days, and may deliver out of order: handlers are idempotent and
 * order-tolerant), and `checkout.session.completed` activates the client's payment.
 */
export function stripeWebhookRoutes(ctx: AppContext): Router {
  const router = Router();
  const { logger, metrics } = ctx;
  const secret = ctx.config.env.STRIPE_WEBHOOK_SECRET;
  // Only the webhook verifier is used: it needs no API key.
  const stripe = new Stripe('sk_test_webhook_verification_only');
  if (secret === undefined) logger.warn({}, 'STRIPE_WEBHOOK_SECRET is not set: every Stripe webhook will be refused with 403');
  router.post('/webhooks/stripe', express.raw({ type: '*/*', limit: '1mb' }), async (req, res) => {
    const signature = req.get('stripe-signature');
    let event: Stripe.Event;
    try {
      if (secret === undefined || signature === undefined) throw new Error('missing signature or secret');
      event = stripe.webhooks.constructEvent(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), signature, secret);
    } catch (error) {
      metrics.webhooks.inc({ provider: 'stripe', outcome: 'bad_signature' });
      logger.warn({ err: scrubText(String(error)) }, 'Stripe webhook refused: signature check failed');
      sendProblem(res, { title: 'Forbidden', status: 403, detail: 'Missing or invalid Stripe-Signature.' });
      return;
    }
    const out = await ctx.dedup.stripe(event, async (verified) => {
      if (verified.type === 'checkout.session.completed') {
        const session = verified.data.object;
        const clientId = session.client_reference_id ?? session.metadata?.clientId ?? undefined;
        const client = clientId === undefined ? undefined : await ctx.db.prisma.$transaction((tx) => activatePayment(tx, clientId, ctx.config.systemNumber));
        if (client === undefined) {
          metrics.webhooks.inc({ provider: 'stripe', outcome: 'unmatched' });
          ctx.alert({ type: 'PAYMENT_UNMATCHED', severity: 'MEDIUM', resourceId: verified.id, title: 'Payment for no known client', message: `Checkout ${session.id} completed without a client we know.` });
        } else {
          metrics.webhooks.inc({ provider: 'stripe', outcome: 'payment_activated' });
          logger.info({ clientId: client.id, eventId: verified.id }, 'payment activated');
        }
      } else {
        metrics.webhooks.inc({ provider: 'stripe', outcome: 'ignored' });
      }
      return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"received":true}' };
    });
    if (out.duplicate) metrics.duplicates.inc({ provider: 'stripe' });
    res.status(out.status).set(out.headers).send(out.body);
  });
  return router;
}
