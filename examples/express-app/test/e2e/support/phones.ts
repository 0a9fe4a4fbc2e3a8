// Phone numbers and provider ids for end-to-end tests: unique per call, so tests that share
// one app (and one fake Twilio) never see each other's messages.
import { randomBytes } from 'node:crypto';

let counter = 0;

/**
 * A fresh North American number in E.164 (`+1NXX555XXXX`): possible for libphonenumber (the
 * app's check), never a real subscriber's (555-01XX style exchanges are fictional).
 */
export function phone(): string {
  counter = (counter + 1) % 10_000;
  const area = 200 + Math.floor(Math.random() * 700);
  const line = (Math.floor(Math.random() * 10_000) + counter * 7919) % 10_000;
  return `+1${area}555${String(line).padStart(4, '0')}`;
}

const sid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

/** A Twilio MessageSid (`SM` + 32 hex). */
export const messageSid = () => sid('SM');
/** A Twilio CallSid (`CA` + 32 hex). */
export const callSid = () => sid('CA');
/** A Slack event id. */
export const slackEventId = () => `Ev${randomBytes(8).toString('hex').toUpperCase()}`;
/** A Stripe event id. */
export const stripeEventId = () => `evt_${randomBytes(12).toString('hex')}`;

/** The national digits of an E.164 number (how a leaked number might appear unformatted). */
export function nationalDigits(e164: string): string {
  return e164.replace(/^\+1/, '').replace(/\D/g, '');
}
