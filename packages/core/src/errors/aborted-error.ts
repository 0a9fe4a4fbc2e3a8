import { HardeningError, hasErrorCode } from './hardening-error.js';

/**
 * The caller's own `AbortSignal` aborted the call. `cause` is the signal's reason.
 *
 * @example
 * ```ts
 * import { safeCall, isAbortedError } from '@hardening/core';
 * const controller = new AbortController();
 * const call = safeCall('calendar', (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))), { signal: controller.signal });
 * controller.abort();
 * await call.catch((error) => console.log(isAbortedError(error))); // true
 * ```
 */
export class AbortedError extends HardeningError<'ABORTED'> {
  /** Name of the protected operation. */
  readonly operation: string;

  /**
   * @param operation - Name of the protected operation.
   * @param reason - The signal's reason.
   */
  constructor(operation: string, reason: unknown) {
    super('ABORTED', `"${operation}" was aborted by the caller`, { cause: reason });
    this.operation = operation;
  }
}

/**
 * True when `error` is an {@link AbortedError}, from any copy of the package.
 *
 * @param error - Anything caught.
 * @returns Whether the caller aborted the call.
 * @example
 * ```ts
 * import { isAbortedError } from '@hardening/core';
 * const cancelled = (e: unknown) => isAbortedError(e);
 * ```
 */
export function isAbortedError(error: unknown): error is AbortedError {
  return hasErrorCode(error, 'ABORTED');
}
