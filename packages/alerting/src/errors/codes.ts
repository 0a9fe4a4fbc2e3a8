/**
 * Every code a `@hardening/alerting` error can have.
 *
 * @example
 * ```ts
 * import { isSinkRejectedError, type AlertingErrorCode } from '@hardening/alerting';
 * const code: AlertingErrorCode | undefined = isSinkRejectedError(error) ? error.code : undefined;
 * ```
 */
export type AlertingErrorCode = 'ALERT_SINK_REJECTED' | 'ALERT_DELIVERY_UNCONFIRMED' | 'ALERT_STORE_UNAVAILABLE';
