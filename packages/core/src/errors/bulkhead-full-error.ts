import { HardeningError, hasErrorCode } from './hardening-error.js';

/**
 * The operation already runs its maximum number of concurrent calls and its queue is
 * full (or the call waited in the queue longer than allowed).
 *
 * @example
 * ```ts
 * import { safeCall, isBulkheadFullError } from '@hardening/core';
 * try {
 *   await safeCall('openai_chat', async () => 'answer', { bulkhead: { maxConcurrent: 4, maxQueue: 16 } });
 * } catch (error) {
 *   if (isBulkheadFullError(error)) console.log('shed load: answer 503 with Retry-After');
 * }
 * ```
 */
export class BulkheadFullError extends HardeningError<'BULKHEAD_FULL'> {
  /** Name of the protected operation. */
  readonly operation: string;
  /** Concurrent calls allowed. */
  readonly maxConcurrent: number;
  /** Queue length allowed. */
  readonly maxQueue: number;

  /**
   * @param operation - Name of the protected operation.
   * @param maxConcurrent - Concurrent calls allowed.
   * @param maxQueue - Queue length allowed.
   * @param detail - Why: queue full, or waited too long.
   */
  constructor(operation: string, maxConcurrent: number, maxQueue: number, detail: string) {
    super('BULKHEAD_FULL', `"${operation}" refused: ${detail} (max ${maxConcurrent} concurrent, ${maxQueue} queued)`);
    this.operation = operation;
    this.maxConcurrent = maxConcurrent;
    this.maxQueue = maxQueue;
  }
}

/**
 * True when `error` is a {@link BulkheadFullError}, from any copy of the package.
 *
 * @param error - Anything caught.
 * @returns Whether the call was shed by the bulkhead.
 * @example
 * ```ts
 * import { isBulkheadFullError } from '@hardening/core';
 * const shed = (e: unknown) => isBulkheadFullError(e);
 * ```
 */
export function isBulkheadFullError(error: unknown): error is BulkheadFullError {
  return hasErrorCode(error, 'BULKHEAD_FULL');
}
