// Signs inbound webhooks exactly as each provider does, with the providers' own code where
// they ship it: the Twilio SDK's signature function, the Stripe SDK's test header, and
// Slack's documented v0 HMAC (the Slack SDKs ship only the verifier).
import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import twilio from 'twilio';

/** `X-Twilio-Signature` for a form POST to `url` (the full public URL, query included). */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
}

/** Slack's request signing: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>`. */
export function slackHeaders(signingSecret: string, rawBody: string, timestampSec = Math.floor(Date.now() / 1000)): Record<string, string> {
  const signature = `v0=${createHmac('sha256', signingSecret).update(`v0:${timestampSec}:${rawBody}`).digest('hex')}`;
  return { 'X-Slack-Request-Timestamp': String(timestampSec), 'X-Slack-Signature': signature };
}

const stripe = new Stripe('sk_test_e2e_signing_only');

/** `Stripe-Signature` for `payload`, from the Stripe SDK's own test helper. */
export function stripeSignature(secret: string, payload: string, timestampSec?: number): string {
  return stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestampSec === undefined ? {} : { timestamp: timestampSec }) });
}

/**
 * The form Twilio posts to a call status callback, with its usual fields: one builder for the
 * end-to-end tests and `pnpm sim call`, so both send what Twilio sends (and sign it above).
 */
export function twilioCallStatusParams(input: { callSid: string; from: string; to: string; status: string; accountSid: string }): Record<string, string> {
  const { callSid, from, to, status, accountSid } = input;
  return {
    AccountSid: accountSid,
    ApiVersion: '2010-04-01',
    CallSid: callSid,
    CallStatus: status,
    Called: to,
    Caller: from,
    Direction: 'inbound',
    From: from,
    To: to,
    CallDuration: status === 'completed' ? '12' : '0',
    CallbackSource: 'call-progress-events',
    SequenceNumber: '0',
    Timestamp: new Date().toUTCString(),
  };
}
