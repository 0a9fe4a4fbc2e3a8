// Signed inbound-SMS traffic for `pnpm bench:app`: what Twilio sends to POST /sms, signed
// with the Twilio SDK's own signature function. Each load worker holds one conversation
// at a time: a new phone texts the system number ("Hi": a new client, S1), then answers
// with its business name (an onboarding reply, S1 -> S2); about one request in ten is a
// Twilio retry of the previous one (same MessageSid, same idempotency token).
import { createRequire } from 'node:module';
import type * as Twilio from 'twilio';
import { twilioSmsParams } from '../../examples/express-app/test/e2e/support/twilio-sms-params.ts';

const requireFromApp = createRequire(new URL('../../examples/express-app/package.json', import.meta.url));
const twilio = requireFromApp('twilio') as typeof Twilio.default;

/** What the request is, from the app's point of view. */
export type SmsKind = 'new' | 'reply' | 'duplicate';

/** One signed webhook delivery. */
export interface SmsDelivery {
  readonly kind: SmsKind;
  readonly body: string;
  readonly headers: Record<string, string>;
}

/** Where the traffic goes and who signs it. */
export interface SmsTrafficOptions {
  /** The full URL Twilio was given (signatures cover it). */
  readonly url: string;
  readonly authToken: string;
  readonly accountSid: string;
  /** The app's system (onboarding) number. */
  readonly systemNumber: string;
  /** Share of deliveries that repeat the previous one. @default 0.1 */
  readonly duplicateShare?: number;
}

// A small seeded generator: every run sends the same mix.
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let phones = 0;

/** A fresh, possible North American number per call (`+1NXX555XXXX`, fictional exchange). */
function nextPhone(): string {
  const n = phones++;
  const area = 200 + (Math.floor(n / 10_000) % 700);
  return `+1${area}555${String(n % 10_000).padStart(4, '0')}`;
}

let sids = 0;
const runTag = Math.floor(Math.random() * 0xffffffff)
  .toString(16)
  .padStart(8, '0');

/** `SM` + 32 hex digits, unique within the process. */
function nextMessageSid(): string {
  return `SM${runTag}${(sids++).toString(16).padStart(24, '0')}`;
}

/**
 * The deliveries of one load worker, in order.
 *
 * @example
 * ```ts
 * const traffic = createSmsTraffic({ url: 'http://127.0.0.1:3001/sms', authToken, accountSid, systemNumber: '+15550000000' }, 1);
 * const { body, headers } = traffic.next();
 * ```
 */
export function createSmsTraffic(options: SmsTrafficOptions, seed: number): { next(): SmsDelivery } {
  const random = mulberry32(seed);
  const duplicateShare = options.duplicateShare ?? 0.1;
  let phone = '';
  let step = 0;
  let previous: SmsDelivery | undefined;

  const deliver = (kind: SmsKind, from: string, text: string): SmsDelivery => {
    const sid = nextMessageSid();
    const params = twilioSmsParams({ messageSid: sid, from, to: options.systemNumber, body: text, accountSid: options.accountSid });
    return {
      kind,
      body: new URLSearchParams(params).toString(),
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        'User-Agent': 'TwilioProxy/1.1',
        'I-Twilio-Idempotency-Token': `${sid.slice(2)}`,
        'X-Twilio-Signature': twilio.getExpectedTwilioSignature(options.authToken, options.url, params),
      },
    };
  };

  return {
    next() {
      if (previous !== undefined && random() < duplicateShare) {
        const again = { ...previous, kind: 'duplicate' as const };
        previous = undefined;
        return again;
      }
      let delivery: SmsDelivery;
      if (step === 0) {
        phone = nextPhone();
        delivery = deliver('new', phone, 'Hi');
        step = 1;
      } else {
        delivery = deliver('reply', phone, `Bench Plumbing ${phone.slice(-4)}`);
        step = 0;
      }
      previous = delivery;
      return delivery;
    },
  };
}
