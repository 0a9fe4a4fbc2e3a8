import { lazySdk } from './optional-sdk.js';

/**
 * The Twilio SDK, for `validateRequest` on every Twilio webhook. Loaded only when Twilio is
 * configured (or simulated): buildContext awaits `load()` at start-up so a missing package
 * fails the start; the signature middleware reads `loaded()` synchronously.
 *
 * @example
 * ```ts
 * const sdk = twilioSignatureSdk.loaded() ?? (await twilioSignatureSdk.load());
 * sdk.validateRequest(authToken, signature, url, params);
 * ```
 */
export const twilioSignatureSdk = lazySdk('twilio', 'TWILIO_AUTH_TOKEN (Twilio webhook signatures)', async () => (await import('twilio')).default);

/**
 * One Stripe SDK instance for its webhook verifier (which needs no API key). Loaded only
 * when STRIPE_WEBHOOK_SECRET is set: buildContext awaits `load()` at start-up; the webhook
 * route reads `loaded()`.
 *
 * @example
 * ```ts
 * const stripe = stripeWebhookSdk.loaded() ?? (await stripeWebhookSdk.load());
 * const event = stripe.webhooks.constructEvent(rawBody, signature, secret);
 * ```
 */
export const stripeWebhookSdk = lazySdk(
  'stripe',
  'STRIPE_WEBHOOK_SECRET (Stripe webhook signatures)',
  async () => new (await import('stripe')).default('sk_test_webhook_verification_only'),
);
