import type { DbOrTx } from '../db/types.js';
import { activeTraceparent } from '../message-trace.js';

/** Why an SMS is sent: for logs, metrics and the admin API. */
export type OutboundPurpose =
  | 'missed_call'
  | 'reply'
  | 'owner_urgent'
  | 'failsafe'
  | 'onboarding'
  | 'payment'
  | 'number_ready'
  | 'live'
  /** The answer to STOP, START or HELP: the one text an opted-out recipient still gets. */
  | 'compliance';

/** An SMS to send after the transaction that decided it commits. */
export interface OutboundSms {
  readonly to: string;
  readonly from: string;
  readonly body: string;
  readonly purpose: OutboundPurpose;
  readonly conversationId?: string;
  /**
   * Once-per-event key (`missed_call:<CallSid>`): a second row with it is refused by the
   * database, whatever the idempotency store remembers.
   */
  readonly sendKey?: string;
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
    data: {
      toPhone: sms.to,
      fromPhone: sms.from,
      body: sms.body,
      purpose: sms.purpose,
      conversationId: sms.conversationId ?? null,
      sendKey: sms.sendKey ?? null,
      traceparent: activeTraceparent(),
    },
    select: { id: true },
  });
  return row.id;
}

/**
 * Writes an SMS to the outbox once per `sms.sendKey`, in the caller's transaction: a second
 * call with the same key (a provider redelivery the idempotency store did not catch, on
 * any instance) writes nothing. A concurrent transaction with the same key waits for the
 * first to commit, then finds the row.
 *
 * @returns The new row's id, or undefined when a row with that key already exists.
 * @example
 * ```ts
 * const id = await enqueueSmsOnce(tx, { to, from, body, purpose: 'missed_call', sendKey: `missed_call:${callSid}` });
 * if (id === undefined) return; // this call was texted already
 * ```
 */
export async function enqueueSmsOnce(db: DbOrTx, sms: OutboundSms & { readonly sendKey: string }): Promise<string | undefined> {
  const rows = await db.outboundMessage.createManyAndReturn({
    data: [
      {
        toPhone: sms.to,
        fromPhone: sms.from,
        body: sms.body,
        purpose: sms.purpose,
        conversationId: sms.conversationId ?? null,
        sendKey: sms.sendKey,
        traceparent: activeTraceparent(),
      },
    ],
    skipDuplicates: true,
    select: { id: true },
  });
  return rows[0]?.id;
}
