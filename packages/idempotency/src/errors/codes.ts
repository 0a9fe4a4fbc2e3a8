/**
 * Every code an `@hardening/idempotency` error can have. Branch on `error.code`, or use the
 * `isXError` guards.
 */
export type IdempotencyErrorCode =
  | 'IDEMPOTENCY_INVALID_KEY'
  | 'IDEMPOTENCY_IN_PROGRESS'
  | 'IDEMPOTENCY_PAYLOAD_MISMATCH'
  | 'IDEMPOTENCY_STORE_UNAVAILABLE'
  | 'IDEMPOTENCY_LEASE_LOST'
  | 'WEBHOOK_DEDUP_KEY_MISSING';
