import { WebhookKeyMissingError } from '../errors/webhook-key-missing-error.js';

/** The Stripe event fields the helpers read (what `stripe.webhooks.constructEvent` returns). */
export interface StripeEventLike {
  /** `evt_...`: the dedup key. */
  readonly id: string;
  /** `invoice.paid`, ...: logged with duplicates. */
  readonly type?: string;
}

/**
 * Derives the dedup key of a verified Stripe event: `event.id`. Stripe retries a failed
 * delivery for up to three days and may deliver an event more than once, possibly out of
 * order.
 *
 * @param event - The event from `stripe.webhooks.constructEvent`.
 * @returns The event id, e.g. `evt_1N...`.
 * @throws {@link WebhookKeyMissingError} when the event has no id.
 * @example
 * ```ts
 * import { stripeDedupKey } from '@hardening/idempotency';
 * stripeDedupKey({ id: 'evt_123', type: 'invoice.paid' }); // 'evt_123'
 * ```
 */
export function stripeDedupKey(event: StripeEventLike): string {
  const id = event?.id;
  if (typeof id !== 'string' || id.length === 0) throw new WebhookKeyMissingError('stripe', 'event.id is missing');
  return id;
}
