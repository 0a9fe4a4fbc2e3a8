import { HardeningError, hasErrorCode } from '@hardening/core';

/**
 * An alert SMS was accepted by the provider but never reached the phone: Twilio reported
 * `failed` or `undelivered`, or no `delivered` receipt came within the confirmation time.
 * The alert then falls back to the next sink; this error is what the "ALERT NOT DELIVERED" line
 * and the history record describe.
 *
 * @example
 * ```ts
 * import { DeliveryUnconfirmedError, isDeliveryUnconfirmedError } from '@hardening/alerting';
 * const error = new DeliveryUnconfirmedError('sms', 'SM0123', 'undelivered', '30003');
 * console.log(isDeliveryUnconfirmedError(error), error.providerStatus); // true 'undelivered'
 * ```
 */
export class DeliveryUnconfirmedError extends HardeningError<'ALERT_DELIVERY_UNCONFIRMED'> {
  /** Name of the sink. */
  readonly sink: string;
  /** Provider id of the message (Twilio message SID). */
  readonly deliveryId: string;
  /** `failed`, `undelivered`, `canceled`, or `timeout` when no receipt came. */
  readonly providerStatus: string;
  /** The provider's error code (Twilio `ErrorCode`, e.g. `30003` unreachable handset). */
  readonly providerCode: string | undefined;

  /**
   * @param sink - Name of the sink.
   * @param deliveryId - Provider id of the message.
   * @param providerStatus - The final status, or `timeout`.
   * @param providerCode - The provider's error code.
   */
  constructor(sink: string, deliveryId: string, providerStatus: string, providerCode?: string) {
    const why = providerStatus === 'timeout' ? 'no delivery receipt in time' : `status ${providerStatus}${providerCode ? ` (error ${providerCode})` : ''}`;
    super('ALERT_DELIVERY_UNCONFIRMED', `${sink} message ${deliveryId} not delivered: ${why}`);
    this.sink = sink;
    this.deliveryId = deliveryId;
    this.providerStatus = providerStatus;
    this.providerCode = providerCode;
  }
}

/**
 * True when `error` is a {@link DeliveryUnconfirmedError}, from any copy of the package.
 *
 * @param error - Anything caught.
 * @returns Whether an alert message went unconfirmed.
 * @example
 * ```ts
 * import { isDeliveryUnconfirmedError } from '@hardening/alerting';
 * const unconfirmed = (e: unknown) => isDeliveryUnconfirmedError(e);
 * ```
 */
export function isDeliveryUnconfirmedError(error: unknown): error is DeliveryUnconfirmedError {
  return hasErrorCode(error, 'ALERT_DELIVERY_UNCONFIRMED');
}
