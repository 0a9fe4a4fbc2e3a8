import { field } from '../classifiers/error-fields.js';
import { HardeningError, hasErrorCode } from './hardening-error.js';

/**
 * The work returned a value that `isFailureResult` called a failure (a `fetch` `Response`
 * with status 503, say). It stands in for an error so the call is classified, retried and
 * counted by the breaker like one: `status` and `headers` are copied from the result when it
 * has them, so a 503 is transient and a `Retry-After` header is honoured. When the retries
 * run out it is the `cause` of the `RetriesExhaustedError`, and `result` is the last result.
 *
 * @example
 * ```ts
 * import { safeCall, isFailedResponse, isRetriesExhaustedError, isFailedResultError } from '@hardening/core';
 * try {
 *   await safeCall('status_api', (signal) => fetch('http://127.0.0.1:9/', { signal }), { isFailureResult: isFailedResponse });
 * } catch (error) {
 *   if (isRetriesExhaustedError(error) && isFailedResultError(error.cause)) console.log('last answer', error.cause.status);
 * }
 * ```
 */
export class FailedResultError<R = unknown> extends HardeningError<'FAILED_RESULT'> {
  /** Name of the protected operation. */
  readonly operation: string;
  /** What the work returned. */
  readonly result: R;
  /** The result's HTTP status, when it has one. */
  readonly status: number | undefined;
  /** The result's headers, when it has some (`Retry-After` is read from them). */
  readonly headers: unknown;

  /**
   * @param operation - Name of the protected operation.
   * @param result - What the work returned.
   */
  constructor(operation: string, result: R) {
    const status = field(result, 'status');
    const code = typeof status === 'number' ? status : undefined;
    super('FAILED_RESULT', `"${operation}" returned a failed result${code === undefined ? '' : ` (status ${code})`}`);
    this.operation = operation;
    this.result = result;
    this.status = code;
    this.headers = field(result, 'headers');
  }
}

/**
 * True when `error` is a {@link FailedResultError}, from any copy of the package.
 *
 * @param error - Anything caught.
 * @returns Whether a returned result was called a failure.
 * @example
 * ```ts
 * import { isFailedResultError } from '@hardening/core';
 * const lastResult = (e: unknown) => (isFailedResultError(e) ? e.result : undefined);
 * ```
 */
export function isFailedResultError(error: unknown): error is FailedResultError {
  return hasErrorCode(error, 'FAILED_RESULT');
}
