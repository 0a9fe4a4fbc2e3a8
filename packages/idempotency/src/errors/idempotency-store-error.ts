import { HardeningError, hasErrorCode } from '@hardening/core';

/**
 * The store (Redis, PostgreSQL) failed or did not answer in time. `cause` is the driver's
 * error. `operation` says which step failed; when it is `complete`, the protected function
 * already ran and its result could not be recorded (see `effectApplied`). Over HTTP this
 * becomes a 503.
 *
 * @example
 * ```ts
 * import { isIdempotencyStoreError } from '@hardening/idempotency';
 * try {
 *   await guard.run(eventId, handle);
 * } catch (error) {
 *   if (isIdempotencyStoreError(error)) console.log(error.operation, error.effectApplied);
 * }
 * ```
 */
export class IdempotencyStoreError extends HardeningError<'IDEMPOTENCY_STORE_UNAVAILABLE'> {
  /** The store operation that failed. */
  readonly operation: 'claim' | 'complete' | 'release' | 'cleanup';
  /** True when the protected function had already run (only for `complete`). */
  readonly effectApplied: boolean;

  /**
   * @param operation - The store operation that failed.
   * @param cause - The driver's error.
   * @param effectApplied - Whether the protected function had already run.
   */
  constructor(operation: 'claim' | 'complete' | 'release' | 'cleanup', cause: unknown, effectApplied = false) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super('IDEMPOTENCY_STORE_UNAVAILABLE', `Idempotency store failed during ${operation}: ${why}`, { cause });
    this.operation = operation;
    this.effectApplied = effectApplied;
  }
}

/**
 * True when `error` is an {@link IdempotencyStoreError}, from any copy of the package.
 *
 * @param error - Anything caught.
 * @returns Whether the store failed.
 * @example
 * ```ts
 * import { isIdempotencyStoreError } from '@hardening/idempotency';
 * const storeDown = (e: unknown) => isIdempotencyStoreError(e);
 * ```
 */
export function isIdempotencyStoreError(error: unknown): error is IdempotencyStoreError {
  return hasErrorCode(error, 'IDEMPOTENCY_STORE_UNAVAILABLE');
}
