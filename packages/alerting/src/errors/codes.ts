/** Every code a `@hardening/alerting` error can have. */
export type AlertingErrorCode = 'ALERT_SINK_REJECTED' | 'ALERT_DELIVERY_UNCONFIRMED';
