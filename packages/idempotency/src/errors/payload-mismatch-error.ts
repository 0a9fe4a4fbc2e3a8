import { HardeningError, hasErrorCode } from '@hardening/core';

/**
 * The key was already used with a different payload. This is a bug in the client (it
 * reused a key for another operation), not a duplicate, so nothing runs and nothing is
 * replayed. Over HTTP this becomes a 422.
 *
 * @example
 * ```ts
 * import { isIdempotencyPayloadMismatchError } from '@hardening/idempotency';
 * await guard.run('order-1', charge, { payload: { amount: 5 } });
 * await guard.run('order-1', charge, { payload: { amount: 7 } }).catch((error) => {
 *   if (isIdempotencyPayloadMismatchError(error)) console.log('key reused for another payload');
 * });
 * ```
 */
export class IdempotencyPayloadMismatchError extends HardeningError<'IDEMPOTENCY_PAYLOAD_MISMATCH'> {
  /** The state of the record the key points at. */
  readonly recordStatus: 'in-progress' | 'completed';

  /**
   * @param recordStatus - The state of the existing record.
   */
  constructor(recordStatus: 'in-progress' | 'completed') {
    super('IDEMPOTENCY_PAYLOAD_MISMATCH', `This idempotency key was already used with a different payload (record is ${recordStatus})`);
    this.recordStatus = recordStatus;
  }
}

/**
 * True when `error` is an {@link IdempotencyPayloadMismatchError}, from any copy of the package.
 *
 * @param error - Anything caught.
 * @returns Whether the key was reused with another payload.
 * @example
 * ```ts
 * import { isIdempotencyPayloadMismatchError } from '@hardening/idempotency';
 * const reused = (e: unknown) => isIdempotencyPayloadMismatchError(e);
 * ```
 */
export function isIdempotencyPayloadMismatchError(error: unknown): error is IdempotencyPayloadMismatchError {
  return hasErrorCode(error, 'IDEMPOTENCY_PAYLOAD_MISMATCH');
}
