import { WebhookKeyMissingError } from '../errors/webhook-key-missing-error.js';
import { headerValue, type WebhookHeaders } from './webhook-types.js';

/**
 * Derives the dedup key of a verified Standard Webhooks delivery: the `webhook-id` header,
 * which the sender keeps the same across retries of one message.
 *
 * @param headers - Request headers.
 * @returns The `webhook-id`, e.g. `msg_2KWPBgLlAfxdpx2AI54pPJ85f4W`.
 * @throws {@link WebhookKeyMissingError} when the header is absent.
 * @example
 * ```ts
 * import { standardWebhookDedupKey } from '@hardening/idempotency';
 * standardWebhookDedupKey({ 'webhook-id': 'msg_123' }); // 'msg_123'
 * ```
 */
export function standardWebhookDedupKey(headers: WebhookHeaders): string {
  const id = headerValue(headers, 'webhook-id');
  if (id === undefined || id.length === 0) throw new WebhookKeyMissingError('standard-webhooks', 'the webhook-id header is missing');
  return id;
}
