import type { DbOrTx } from '../db/types.js';

/** Why an SMS is sent: for logs, metrics and the admin API. */
export type OutboundPurpose =
  | 'missed_call'
  | 'reply'
  | 'owner_urgent'
  | 'onboarding'
  | 'payment'
  | 'number_ready'
  | 'live';

/** An SMS to send after the transaction that decided it commits. */
export interface OutboundSms {
  readonly to: string;
  readonly from: string;
  readonly body: string;
  readonly purpose: OutboundPurpose;
  readonly conversationId?: string;
}

/**
 * Writes an SMS to the outbox, in the caller's transaction: it is sent only if that
 * transaction commits, and exactly once (see jobs/outbox-worker.ts). The Messages API has
 * no idempotency key, so this is the only way to send that survives retries.
 *
 * @returns The outbox row's id.
 */
export async function enqueueSms(db: DbOrTx, sms: OutboundSms): Promise<string> {
  const row = await db.outboundMessage.create({
    data: { toPhone: sms.to, fromPhone: sms.from, body: sms.body, purpose: sms.purpose, conversationId: sms.conversationId ?? null },
    select: { id: true },
  });
  return row.id;
}
