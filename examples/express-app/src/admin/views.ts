import { maskPhoneNumber, scrubText, scrubValue } from '@hardening/core';
import type { Client, OutboundMessage, WebhookDelivery } from '../db/generated/client.js';

/** A client as the admin API shows it: the owner's phone masked. */
export function clientView(client: Client) {
  return {
    id: client.id,
    businessName: client.businessName,
    phone: maskPhoneNumber(client.phone),
    onboardingState: client.onboardingState,
    stateEnteredAt: client.stateEnteredAt.toISOString(),
    stuckDetectedAt: client.stuckDetectedAt?.toISOString() ?? null,
    paymentActive: client.paymentActive,
    outboundPaused: client.outboundPaused,
  };
}

/** A webhook delivery (or job) as the admin API shows it. */
export function deliveryView(row: WebhookDelivery) {
  return {
    id: row.id,
    provider: row.provider,
    eventId: row.eventId,
    kind: row.kind,
    status: row.status,
    attempts: row.attempts,
    lastError: row.lastError,
    // Ids only today (inboxId, signalId); scrubbed in case a job ever carries more.
    payload: scrubValue(row.payload),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** An outbound SMS as the admin API shows it: numbers masked, phone numbers in the body masked. */
export function outboxView(row: OutboundMessage) {
  return {
    id: row.id,
    to: maskPhoneNumber(row.toPhone),
    from: maskPhoneNumber(row.fromPhone),
    purpose: row.purpose,
    status: row.status,
    attempts: row.attempts,
    body: scrubText(row.body),
    twilioSid: row.twilioSid,
    lastError: row.lastError,
    nextAttemptAt: row.nextAttemptAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
    sentAt: row.sentAt?.toISOString() ?? null,
  };
}
