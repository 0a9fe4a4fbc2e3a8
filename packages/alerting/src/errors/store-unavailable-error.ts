import { HardeningError, hasErrorCode } from '@hardening/core';

/**
 * An alert store is known to be down (not merely slow): connection refused or reset, its
 * breaker open, or a store of your own saying so. Only this makes a dedup claim fall back
 * (to the durable store, then to the designated-sender rule); a slow store is waited for.
 * Throw it from your own {@link AlertStore} when you know the backend is unreachable.
 *
 * @example
 * ```ts
 * import { AlertStoreUnavailableError, isAlertStoreUnavailableError } from '@hardening/alerting';
 * const error = new AlertStoreUnavailableError('redis', 'connection refused');
 * console.log(isAlertStoreUnavailableError(error), error.store); // true 'redis'
 * ```
 */
export class AlertStoreUnavailableError extends HardeningError<'ALERT_STORE_UNAVAILABLE'> {
  /** The store's kind (`redis`, `postgres`, ...). */
  readonly store: string;

  /**
   * @param store - The store's kind.
   * @param message - Why it is unavailable (no secrets).
   * @param options - `cause`.
   */
  constructor(store: string, message: string, options: { cause?: unknown } = {}) {
    super('ALERT_STORE_UNAVAILABLE', `alert store ${store} unavailable: ${message}`, options);
    this.store = store;
  }
}

/**
 * True when `error` is an {@link AlertStoreUnavailableError}, from any copy of the package.
 *
 * @param error - Anything caught.
 * @returns Whether a store said it is down.
 * @example
 * ```ts
 * import { isAlertStoreUnavailableError } from '@hardening/alerting';
 * if (isAlertStoreUnavailableError(error)) console.warn(error.store, 'is down');
 * ```
 */
export function isAlertStoreUnavailableError(error: unknown): error is AlertStoreUnavailableError {
  return hasErrorCode(error, 'ALERT_STORE_UNAVAILABLE');
}
