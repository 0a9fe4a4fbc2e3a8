// Provider event bodies as the providers send them (trimmed to the fields that matter,
// shaped like the documented payloads).
import { randomBytes } from 'node:crypto';
import { slackEventId, stripeEventId } from './phones.js';

/** A Stripe `checkout.session.completed` event for the payment link of `clientId`. */
export function checkoutCompleted(clientId: string | undefined, id = stripeEventId()): Record<string, unknown> {
  const created = Math.floor(Date.now() / 1000);
  return {
    id,
    object: 'event',
    api_version: '2025-10-29.clover',
    created,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'checkout.session.completed',
    data: {
      object: {
        id: `cs_test_${randomBytes(12).toString('hex')}`,
        object: 'checkout.session',
        amount_total: 4900,
        currency: 'usd',
        client_reference_id: clientId ?? null,
        customer: `cus_${randomBytes(7).toString('hex')}`,
        metadata: {},
        mode: 'subscription',
        payment_status: 'paid',
        status: 'complete',
        created,
      },
    },
  };
}

/** Another Stripe event type the app does not act on. */
export function invoicePaid(id = stripeEventId()): Record<string, unknown> {
  return {
    id,
    object: 'event',
    api_version: '2025-10-29.clover',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'invoice.paid',
    data: { object: { id: `in_${randomBytes(8).toString('hex')}`, object: 'invoice', status: 'paid' } },
  };
}

/** A Slack Events API `event_callback` carrying a channel message. */
export function slackMessage(text: string, options: { eventId?: string; channel?: string; user?: string } = {}): Record<string, unknown> {
  const ts = `${Math.floor(Date.now() / 1000)}.${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
  return {
    token: 'deprecated-verification-token',
    team_id: 'T0E2E',
    api_app_id: 'A0E2E',
    type: 'event_callback',
    event_id: options.eventId ?? slackEventId(),
    event_time: Math.floor(Date.now() / 1000),
    event: { type: 'message', channel: options.channel ?? 'C0E2EJOBS', user: options.user ?? 'U0E2EUSER', text, ts, event_ts: ts, channel_type: 'channel' },
    authorizations: [{ team_id: 'T0E2E', user_id: 'U0E2EBOT', is_bot: true }],
  };
}

/** Slack's `url_verification` handshake. */
export function urlVerification(challenge = randomBytes(12).toString('hex')): Record<string, unknown> {
  return { token: 'deprecated-verification-token', challenge, type: 'url_verification' };
}
