import { HardeningError, hasErrorCode } from '@hardening/core';

/**
 * The idempotency key is not a non-empty string of at most 255 bytes (UTF-8). Over HTTP
 * this becomes a 400 problem+json answer.
 *
 * @example
 * ```ts
 * import { createIdempotencyGuard, createMemoryStore, isInvalidIdempotencyKeyError } from '@hardening/idempotency';
 * const guard = createIdempotencyGuard({ store: createMemoryStore() });
 * await guard.run('', async () => 'never runs').catch((error) => console.log(isInvalidIdempotencyKeyError(error))); // true
 * ```
 */
export class InvalidIdempotencyKeyError extends HardeningError<'IDEMPOTENCY_INVALID_KEY'> {
  /** What was wrong: `type`, `empty` or `too-long`. */
  readonly reason: 'type' | 'empty' | 'too-long';

  /**
   * @param reason - What was wrong.
   * @param message - The full explanation (never includes the key's content).
   */
  constructor(reason: 'type' | 'empty' | 'too-long', message: string) {
    super('IDEMPOTENCY_INVALID_KEY', message);
    this.reason = reason;
  }
}

/**
 * True when `error` is an {@link InvalidIdempotencyKeyError}, from any copy of the package.
 *
 * @param error - Anything caught.
 * @returns Whether the key was rejected.
 * @example
 * ```ts
 * import { isInvalidIdempotencyKeyError } from '@hardening/idempotency';
 * const badKey = (e: unknown) => isInvalidIdempotencyKeyError(e);
 * ```
 */
export function isInvalidIdempotencyKeyError(error: unknown): error is InvalidIdempotencyKeyError {
  return hasErrorCode(error, 'IDEMPOTENCY_INVALID_KEY');
}
