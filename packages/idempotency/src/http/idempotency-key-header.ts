import { maxKeyBytes } from '../key.js';

/** The result of {@link parseIdempotencyKeyHeader}. */
export type ParsedIdempotencyKey =
  | {
      /** The header held a valid key. */
      readonly ok: true;
      /** The key (unquoted). */
      readonly key: string;
    }
  | {
      /** The header was absent or unusable. */
      readonly ok: false;
      /** `missing` (answer 400 where the key is required) or `invalid` (always 400). */
      readonly reason: 'missing' | 'invalid';
      /** What is wrong, for the problem+json `detail`. */
      readonly detail: string;
    };

/**
 * Reads an `Idempotency-Key` header value. The IETF draft makes it a Structured Field
 * string (`"8e03978e-..."`, quoted); most clients (Stripe's included) send the bare value,
 * so both are accepted. The key must be 1 to 255 bytes of printable ASCII.
 *
 * @param value - The header value as Node gives it (`req.headers['idempotency-key']`).
 * @returns The key, or why it was refused.
 * @example
 * ```ts
 * import { parseIdempotencyKeyHeader } from '@hardening/idempotency';
 * parseIdempotencyKeyHeader('"8e03978e-40d5-43e8-bc93-6894a57f9324"'); // { ok: true, key: '8e03978e-...' }
 * parseIdempotencyKeyHeader(undefined); // { ok: false, reason: 'missing', ... }
 * ```
 */
export function parseIdempotencyKeyHeader(value: string | readonly string[] | undefined): ParsedIdempotencyKey {
  if (value === undefined) return { ok: false, reason: 'missing', detail: 'The request has no Idempotency-Key header.' };
  if (typeof value !== 'string') {
    if (value.length === 1 && typeof value[0] === 'string') return parseIdempotencyKeyHeader(value[0]);
    return { ok: false, reason: 'invalid', detail: 'The request has more than one Idempotency-Key header.' };
  }
  let key = value.trim();
  if (key.startsWith('"')) {
    const match = /^"((?:[\x20\x21\x23-\x5B\x5D-\x7E]|\\["\\])*)"$/.exec(key);
    if (match === null) return { ok: false, reason: 'invalid', detail: 'The Idempotency-Key header is not a valid Structured Field string.' };
    key = match[1]!.replace(/\\(["\\])/g, '$1');
  } else if (!/^[\x21-\x7E]*$/.test(key)) {
    return { ok: false, reason: 'invalid', detail: 'The Idempotency-Key header must be printable ASCII without spaces.' };
  }
  if (key.length === 0) return { ok: false, reason: 'invalid', detail: 'The Idempotency-Key header is empty.' };
  if (key.length > maxKeyBytes) return { ok: false, reason: 'invalid', detail: `The Idempotency-Key header is longer than ${maxKeyBytes} characters.` };
  return { ok: true, key };
}
