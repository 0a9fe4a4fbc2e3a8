import type { GiveUpEvent } from './options.js';

/**
 * Which give-up reasons a `fallback` may answer: the service is unavailable (breaker open,
 * bulkhead full) or retries ran out. A non-retryable error is a bug or bad input and a
 * caller's abort is the caller's choice: those always throw.
 */
export function fallbackAllowed(reason: GiveUpEvent['reason']): boolean {
  return reason !== 'non-retryable' && reason !== 'aborted';
}
