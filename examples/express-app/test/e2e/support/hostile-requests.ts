// fast-check arbitraries for hostile requests to the app: strings with NUL, lone surrogates
// and over-long values, bodies in every encoding (form, JSON, text, binary, empty) under any
// content type, and signatures that are valid (each provider's own scheme over the exact
// bytes sent), missing, wrong or garbage.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { callSid, messageSid, phone, slackEventId, stripeEventId } from './phones.js';
import { twilioSignature } from './signing.js';

/** Strings a hostile or broken client sends. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '\u0000',
      'a\u0000b',
      '\ud800',
      'x\udfffy',
      '\ud83d',
      '%00',
      '😀'.repeat(100),
      'x'.repeat(5000),
      '',
      ' ',
      '+15555550100',
      'null',
      '{}',
      '<Response/>',
      "'; DROP TABLE clients; --",
      '\u202e\u200b',
      '../../etc/passwd',
    ),
  },
  // Names every object has: a table read by key finds a function there (CI's fuzz once hit
  // GET /admin/valueOf by chance, answered 500; now every run tries them).
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'valueOf', 'toString', 'hasOwnProperty', 'prototype') },
);

/** Any JSON value, hostile strings included. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(fc.jsonValue({ maxDepth: 3 }), hostileString, fc.constant(null));

/** A form value Twilio might put in a field, or anything else. */
const fieldValue = (realistic: fc.Arbitrary<string>, hostileWeight = 1) =>
  fc.oneof({ weight: 4, arbitrary: realistic }, { weight: hostileWeight, arbitrary: hostileString });

const twilioFieldNames = [
  'MessageSid',
  'SmsSid',
  'From',
  'To',
  'Body',
  'CallSid',
  'CallStatus',
  'MessageStatus',
  'SmsStatus',
  'ErrorCode',
  'AccountSid',
] as const;

/** Twilio form fields: realistic ones with hostile overrides and extra fields. */
export function twilioParams(systemNumber: string): fc.Arbitrary<Record<string, string>> {
  return fc
    .record({
      MessageSid: fieldValue(fc.constant(null).map(() => messageSid())),
      From: fieldValue(fc.constant(null).map(() => phone())),
      To: fieldValue(fc.constant(systemNumber)),
      Body: fieldValue(fc.constantFrom('Hi', 'YES', 'URGENT', 'STATUS'), 4),
      CallSid: fieldValue(fc.constant(null).map(() => callSid())),
      CallStatus: fieldValue(fc.constantFrom('no-answer', 'busy', 'failed', 'completed', 'ringing')),
      MessageStatus: fieldValue(fc.constantFrom('delivered', 'failed', 'undelivered', 'sent')),
      extra: fc.dictionary(fc.oneof(fc.constantFrom(...twilioFieldNames), hostileString), hostileString, { maxKeys: 2 }),
      drop: fc.subarray([...twilioFieldNames], { maxLength: 2 }),
    })
    .map(({ extra, drop, ...fields }) => {
      const params: Record<string, string> = { ...fields, ...extra };
      for (const name of drop) delete params[name];
      return params;
    });
}

/** A Slack Events API body: realistic envelopes with hostile fields, or anything. */
export const slackBody: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record(
      {
        type: fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom('event_callback', 'url_verification', 'app_rate_limited') },
          { weight: 1, arbitrary: hostileJson },
        ),
        event_id: fc.oneof({ weight: 3, arbitrary: fc.constant(null).map(() => slackEventId()) }, { weight: 1, arbitrary: hostileJson }),
        challenge: hostileJson,
        event: fc.oneof(
          {
            weight: 4,
            arbitrary: fc.record(
              {
                type: fc.oneof(fc.constant('message'), hostileJson),
                text: fc.oneof(hostileString, hostileJson),
                user: fc.oneof(fc.constant('U0FUZZ'), hostileJson),
                channel: fc.oneof(fc.constant('C0FUZZ'), hostileJson),
                ts: fc.oneof(fc.constant('1700000000.000100'), hostileJson),
                subtype: hostileJson,
              },
              { requiredKeys: ['type'] },
            ),
          },
          { weight: 1, arbitrary: hostileJson },
        ),
      },
      { requiredKeys: ['type'] },
    ),
  },
  { weight: 1, arbitrary: hostileJson },
);

/** A Stripe event: realistic checkouts with hostile fields, or anything. */
export const stripeBody: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record(
      {
        id: fc.oneof({ weight: 3, arbitrary: fc.constant(null).map(() => stripeEventId()) }, { weight: 1, arbitrary: hostileJson }),
        object: fc.constant('event'),
        type: fc.oneof(fc.constantFrom('checkout.session.completed', 'invoice.paid'), hostileJson),
        data: fc.oneof(
          {
            weight: 4,
            arbitrary: fc.record(
              {
                object: fc.oneof(
                  fc.record(
                    { id: fc.oneof(fc.constant('cs_test_fuzz'), hostileJson), client_reference_id: hostileJson, metadata: hostileJson },
                    { requiredKeys: [] },
                  ),
                  hostileJson,
                ),
              },
              { requiredKeys: [] },
            ),
          },
          { weight: 1, arbitrary: hostileJson },
        ),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: hostileJson },
);

/** How the body is encoded on the wire. */
export type Encoding = 'native' | 'form' | 'json' | 'text' | 'binary' | 'empty';

export const encoding: fc.Arbitrary<Encoding> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Encoding>('native') },
  { weight: 1, arbitrary: fc.constantFrom<Encoding>('form', 'json', 'text', 'binary', 'empty') },
);

/** Content types, right, wrong and broken. */
export const contentType: fc.Arbitrary<string | undefined> = fc.constantFrom(
  undefined,
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=iso-8859-1',
  'application/json',
  'application/json; charset=utf-16',
  'text/plain; charset=utf-8',
  'application/octet-stream',
  'multipart/form-data; boundary=fuzz',
  'text/xml',
  'application/*',
  'nonsense',
);

/** How a request is signed. */
export type Signing = 'valid' | 'missing' | 'wrong' | 'garbage';

export const unauthenticated: fc.Arbitrary<Signing> = fc.constantFrom<Signing>('missing', 'wrong', 'garbage');

/** Header-safe garbage (fetch refuses NUL and non-Latin-1 in headers). */
export const garbageHeader: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', maxLength: 60 }),
  fc.constantFrom('v0=', 't=1,v1=', 'Bearer ', 'Bearer x', 'x'.repeat(4000)),
);

/** Bytes of `value` as `how`: the route's own encoding for 'native'. */
export function encode(value: unknown, how: Encoding, native: 'form' | 'json', bytes: Uint8Array): Buffer {
  const as = how === 'native' ? native : how;
  switch (as) {
    case 'form': {
      const fields = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
      const search = new URLSearchParams();
      for (const [k, v] of Object.entries(fields)) search.append(k, typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
      return Buffer.from(search.toString());
    }
    case 'json':
      return Buffer.from(JSON.stringify(value) ?? 'null');
    case 'text':
      return Buffer.from(typeof value === 'string' ? value : String(JSON.stringify(value)));
    case 'binary':
      return Buffer.from(bytes);
    case 'empty':
      return Buffer.alloc(0);
  }
}

/** Form fields the app will parse out of `body` (for Twilio's signature over them). */
export function formFields(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(body.toString('utf8'))) out[k] ??= v;
  return out;
}

/** Twilio's signature header for a form POST to `url` (valid when `body` is that form). */
export function twilioHeader(mode: Signing, authToken: string, url: string, body: Buffer, garbage: string): Record<string, string> {
  if (mode === 'missing') return {};
  if (mode === 'garbage') return { 'X-Twilio-Signature': garbage };
  return { 'X-Twilio-Signature': twilioSignature(mode === 'valid' ? authToken : 'not-the-auth-token', url, formFields(body)) };
}

/** Slack's v0 signature over the exact bytes. */
export function slackHeader(mode: Signing, secret: string, body: Buffer, garbage: string): Record<string, string> {
  if (mode === 'missing') return {};
  const ts = String(Math.floor(Date.now() / 1000));
  if (mode === 'garbage') return { 'X-Slack-Request-Timestamp': ts, 'X-Slack-Signature': garbage };
  const key = mode === 'valid' ? secret : '0123456789abcdef0123456789abcdef';
  return { 'X-Slack-Request-Timestamp': ts, 'X-Slack-Signature': `v0=${createHmac('sha256', key).update(`v0:${ts}:`).update(body).digest('hex')}` };
}

/** Stripe's signature (`t=...,v1=...`) over the exact bytes. */
export function stripeHeader(mode: Signing, secret: string, body: Buffer, garbage: string): Record<string, string> {
  if (mode === 'missing') return {};
  if (mode === 'garbage') return { 'Stripe-Signature': garbage };
  const ts = Math.floor(Date.now() / 1000);
  const key = mode === 'valid' ? secret : 'whsec_not_the_endpoint_secret';
  return { 'Stripe-Signature': `t=${ts},v1=${createHmac('sha256', key).update(`${ts}.`).update(body).digest('hex')}` };
}

/** `value` for a URL query, or a raw percent-escape when it has no UTF-8 form (a lone surrogate). */
export function queryValue(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return '%ED%A0%80';
  }
}
