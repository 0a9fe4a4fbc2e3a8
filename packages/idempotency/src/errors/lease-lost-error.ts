import { HardeningError, hasErrorCode } from '@hardening/core';

/**
 * The protected function finished after its lease had expired and another caller had
 * claimed the key, so its result was not recorded (the fencing token no longer matched).
 * The function's effect did happen; `result` holds what it returned. Raise `leaseMs`
 * above the slowest run you expect.
 *
 * @example
 * ```ts
 * import { isIdempotencyLeaseLostError } from '@hardening/idempotency';
 * try {
 *   await guard.run(key, slowJob, { leaseMs: 1000 });
 * } catch (error) {
 *   if (isIdempotencyLeaseLostError(error)) console.log('ran past its lease', error.result);
 * }
 * ```
 */
export class IdempotencyLeaseLostError extends HardeningError<'IDEMPOTENCY_LEASE_LOST'> {
  /** What the protected function returned. */
  readonly result: unknown;
  /** The lease that was exceeded, in ms. */
  readonly leaseMs: number;

  /**
   * @param leaseMs - The lease that was exceeded.
   * @param result - What the protected function returned.
   */
  constructor(leaseMs: number, result: unknown) {
    super(
      'IDEMPOTENCY_LEASE_LOST',
      `The idempotent operation outlived its ${leaseMs} ms lease and another caller took the key over; its result was not recorded`,
    );
    this.leaseMs = leaseMs;
    this.result = result;
  }
}

/**
 * True when `error` is an {@link IdempotencyLeaseLostError}, from any copy of the package.
 *
 * @param error - Anything caught.
 * @returns Whether the run outlived its lease.
 * @example
 * ```ts
 * import { isIdempotencyLeaseLostError } from '@hardening/idempotency';
 * const tooSlow = (e: unknown) => isIdempotencyLeaseLostError(e);
 * ```
 */
export function isIdempotencyLeaseLostError(error: unknown): error is IdempotencyLeaseLostError {
  return hasErrorCode(error, 'IDEMPOTENCY_LEASE_LOST');
}
