import { HardeningError, hasErrorCode } from './hardening-error.js';

/**
 * Why retrying stopped: every attempt was used (`attempts`), the operation's retry budget
 * was spent (`budget`: too many retries across callers in the budget's window), the
 * server asked to wait longer than `backoff.maxDelayMs` (`retry-after`), or the call's
 * overall `deadlineMs` passed or the next wait would cross it (`deadline`).
 */
export type GiveUpReason = 'attempts' | 'budget' | 'retry-after' | 'deadline';

/**
 * Every attempt of a retryable operation failed (or the retry budget refused another).
 * `cause` is the last attempt's error.
 *
 * @example
 * ```ts
 * import { safeCall, isRetriesExhaustedError } from '@hardening/core';
 * try {
 *   await safeCall('twilio_sms', async () => { throw Object.assign(new Error('503'), { status: 503 }); });
 * } catch (error) {
 *   if (isRetriesExhaustedError(error)) console.log(error.attempts, error.cause);
 * }
 * ```
 */
export class RetriesExhaustedError extends HardeningError<'RETRIES_EXHAUSTED'> {
  /** Name of the protected operation. */
  readonly operation: string;
  /** Attempts made. */
  readonly attempts: number;
  /** Why it stopped. */
  readonly reason: GiveUpReason;

  /**
   * @param operation - Name of the protected operation.
   * @param attempts - Attempts made.
   * @param reason - Why it stopped.
   * @param cause - The last attempt's error.
   */
  constructor(operation: string, attempts: number, reason: GiveUpReason, cause: unknown) {
    const why = {
      attempts: 'no attempts left',
      budget: 'retry budget spent',
      'retry-after': 'server asked to wait too long',
      deadline: 'overall deadline reached',
    }[reason];
    super('RETRIES_EXHAUSTED', `"${operation}" failed after ${attempts} attempt${attempts === 1 ? '' : 's'} (${why}): ${describe(cause)}`, {
      cause,
    });
    this.operation = operation;
    this.attempts = attempts;
    this.reason = reason;
  }
}

function describe(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause);
}

/**
 * True when `error` is a {@link RetriesExhaustedError}, from any copy of the package.
 *
 * @param error - Anything caught.
 * @returns Whether every attempt failed.
 * @example
 * ```ts
 * import { isRetriesExhaustedError } from '@hardening/core';
 * const exhausted = (e: unknown) => isRetriesExhaustedError(e) && e.attempts >= 3;
 * ```
 */
export function isRetriesExhaustedError(error: unknown): error is RetriesExhaustedError {
  return hasErrorCode(error, 'RETRIES_EXHAUSTED');
}
