import { createHash } from 'node:crypto';
import { configure } from 'safe-stable-stringify';

// safe-stable-stringify sorts object keys at every depth (the failure mode to avoid is a
// fingerprint over JSON whose key order depends on how the client built the object) and
// throws on cycles instead of producing a fingerprint that hides data.
const canonicalJson = configure({ deterministic: true, circularValue: TypeError, bigint: true });

/**
 * Canonical JSON of a value: object keys sorted at every depth, `undefined` fields
 * dropped, like `JSON.stringify` otherwise.
 *
 * @param value - Any JSON-like value.
 * @returns The canonical JSON text (`undefined` for a bare `undefined`).
 * @throws TypeError on a cycle.
 * @example
 * ```ts
 * import { toCanonicalJson } from '@hardening/idempotency';
 * toCanonicalJson({ b: 1, a: { d: 2, c: 3 } }); // '{"a":{"c":3,"d":2},"b":1}'
 * ```
 */
export function toCanonicalJson(value: unknown): string | undefined {
  return canonicalJson(value);
}

/**
 * A payload fingerprint: SHA-256 (hex) of the payload's canonical JSON, or of the bytes
 * themselves for a `Buffer`/`Uint8Array` (a raw request body). Two payloads that differ
 * only in key order have the same fingerprint.
 *
 * @param payload - The request payload.
 * @returns 64 hex characters.
 * @throws TypeError on a cyclic payload.
 * @example
 * ```ts
 * import { fingerprintPayload } from '@hardening/idempotency';
 * fingerprintPayload({ to: 'a', amount: 5 }) === fingerprintPayload({ amount: 5, to: 'a' }); // true
 * ```
 */
export function fingerprintPayload(payload: unknown): string {
  const hash = createHash('sha256');
  if (payload instanceof Uint8Array) hash.update(payload);
  else hash.update(canonicalJson(payload) ?? 'undefined');
  return hash.digest('hex');
}
