import { HardeningError, hasErrorCode } from '@hardening/core';

/**
 * Another caller holds the key and has not finished yet (a concurrent duplicate). By
 * default the guard throws this at once; with `onInProgress: 'wait'` it throws it only
 * when the first caller has not finished within `waitTimeoutMs`. On PostgreSQL inside a
 * transaction it also means the claim waited longer than the lock timeout. Over HTTP
 * this becomes a 409.
 *
 * @example
 * ```ts
 * import { isIdempotencyInProgressError } from '@hardening/idempotency';
 * try {
 *   await guard.run(messageSid, sendReply);
 * } catch (error) {
 *   if (isIdempotencyInProgressError(error)) console.log(`busy, retry in ${error.retryAfterMs} ms`);
 * }
 * ```
 */
export class IdempotencyInProgressError extends HardeningError<'IDEMPOTENCY_IN_PROGRESS'> {
  /** How long this caller waited before giving up (0 when it did not wait). */
  readonly waitedMs: number;
  /** A hint: when the first caller's lease ends at the latest, in ms from now, if known. */
  readonly retryAfterMs: number | undefined;

  /**
   * @param waitedMs - How long this caller waited.
   * @param retryAfterMs - When the current lease ends at the latest, if known.
   * @param options - `cause`: a store error (PostgreSQL lock timeout) behind it.
   */
  constructor(waitedMs: number, retryAfterMs?: number, options?: { cause?: unknown }) {
    const waited = waitedMs > 0 ? ` after waiting ${waitedMs} ms` : '';
    super('IDEMPOTENCY_IN_PROGRESS', `Another request with this idempotency key is still in progress${waited}`, options);
    this.waitedMs = waitedMs;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * True when `error` is an {@link IdempotencyInProgressError}, from any copy of the package.
 *
 * @param error - Anything caught.
 * @returns Whether a concurrent duplicate was refused.
 * @example
 * ```ts
 * import { isIdempotencyInProgressError } from '@hardening/idempotency';
 * const busy = (e: unknown) => isIdempotencyInProgressError(e);
 * ```
 */
export function isIdempotencyInProgressError(error: unknown): error is IdempotencyInProgressError {
  return hasErrorCode(error, 'IDEMPOTENCY_IN_PROGRESS');
}
