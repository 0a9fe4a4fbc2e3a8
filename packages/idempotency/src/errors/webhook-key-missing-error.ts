import { HardeningError, hasErrorCode } from '@hardening/core';

/**
 * A webhook request lacks the field its provider's dedup key comes from (for example a
 * Twilio request with neither `MessageSid`, `CallSid` nor `I-Twilio-Idempotency-Token`).
 * Answer 400: the request is not what the provider sends.
 *
 * @example
 * ```ts
 * import { twilioDedupKey, isWebhookKeyMissingError } from '@hardening/idempotency';
 * try {
 *   twilioDedupKey({ headers: {}, params: {} });
 * } catch (error) {
 *   console.log(isWebhookKeyMissingError(error)); // true
 * }
 * ```
 */
export class WebhookKeyMissingError extends HardeningError<'WEBHOOK_DEDUP_KEY_MISSING'> {
  /** The provider: `twilio`, `slack`, `stripe` or `standard-webhooks`. */
  readonly provider: string;

  /**
   * @param provider - The provider.
   * @param detail - Which field is missing.
   */
  constructor(provider: string, detail: string) {
    super('WEBHOOK_DEDUP_KEY_MISSING', `Cannot derive a ${provider} dedup key: ${detail}`);
    this.provider = provider;
  }
}

/**
 * True when `error` is a {@link WebhookKeyMissingError}, from any copy of the package.
 *
 * @param error - Anything caught.
 * @returns Whether the webhook had no usable dedup key.
 * @example
 * ```ts
 * import { isWebhookKeyMissingError } from '@hardening/idempotency';
 * const notFromProvider = (e: unknown) => isWebhookKeyMissingError(e);
 * ```
 */
export function isWebhookKeyMissingError(error: unknown): error is WebhookKeyMissingError {
  return hasErrorCode(error, 'WEBHOOK_DEDUP_KEY_MISSING');
}
