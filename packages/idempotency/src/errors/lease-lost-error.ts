import { HardeningError, hasErrorCode } from '@hardening/core';

/**
 * The protected function finished but the key was no longer its claim, so its result was
 * not recorded: its lease had expired and another caller had claimed the key (the fencing
 * token no longer matched), or the store lost the claim before the lease ended (a Redis
 * restart, failover or eviction: `storeLostKey`). The function's effect did happen;
 * `result` holds what it returned. For the first, raise `leaseMs` above the slowest run
 * you expect.
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
  /** The lease, in ms. */
  readonly leaseMs: number;
  /** True when the run finished within its lease: the store had lost the claim (it was not outlived). */
  readonly storeLostKey: boolean;

  /**
   * @param leaseMs - The lease.
   * @param result - What the protected function returned.
   * @param storeLostKey - The run finished within its lease, so the store lost the claim.
   */
  constructor(leaseMs: number, result: unknown, storeLostKey = false) {
    super(
      'IDEMPOTENCY_LEASE_LOST',
      storeLostKey
        ? `The idempotency store no longer held the claim when the operation finished, within its ${leaseMs} ms lease (a restart, failover or eviction); its result was not recorded`
        : `The idempotent operation outlived its ${leaseMs} ms lease and another caller took the key over; its result was not recorded`,
    );
    this.leaseMs = leaseMs;
    this.result = result;
    this.storeLostKey = storeLostKey;
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
