import { HardeningError, hasErrorCode } from './hardening-error.js';

/**
 * An attempt took longer than its timeout. The `AbortSignal` passed to the work was
 * aborted with this error as its reason.
 *
 * @example
 * ```ts
 * import { safeCall, isTimeoutError } from '@hardening/core';
 * try {
 *   await safeCall('slow_api', (signal) => fetch('http://127.0.0.1:9/', { signal }), { timeoutMs: 100, attempts: 1 });
 * } catch (error) {
 *   if (isTimeoutError(error)) console.log(`gave up after ${error.timeoutMs} ms`);
 * }
 * ```
 */
export class TimeoutError extends HardeningError<'TIMEOUT'> {
  /** Name of the protected operation. */
  readonly operation: string;
  /** The timeout that elapsed. */
  readonly timeoutMs: number;

  /**
   * @param operation - Name of the protected operation.
   * @param timeoutMs - The timeout that elapsed.
   */
  constructor(operation: string, timeoutMs: number) {
    super('TIMEOUT', `"${operation}" timed out after ${timeoutMs} ms`);
    this.operation = operation;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * True when `error` is a {@link TimeoutError}, from any copy of the package.
 *
 * @param error - Anything caught.
 * @returns Whether it is a timeout.
 * @example
 * ```ts
 * import { isTimeoutError } from '@hardening/core';
 * const slow = (e: unknown) => isTimeoutError(e);
 * ```
 */
export function isTimeoutError(error: unknown): error is TimeoutError {
  return hasErrorCode(error, 'TIMEOUT');
}
