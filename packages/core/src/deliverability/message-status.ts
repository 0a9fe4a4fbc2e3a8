/**
 * Twilio's outbound message statuses
 * (https://www.twilio.com/docs/messaging/api/message-resource#message-status-values), in
 * the order a message moves through them.
 */
export type MessageStatus =
  'accepted' | 'scheduled' | 'queued' | 'sending' | 'sent' | 'delivered' | 'read' | 'undelivered' | 'failed' | 'canceled' | 'partially_delivered';

/**
 * Rank of each status: a callback may only move a message to a higher rank. Terminal
 * statuses (rank 10 and up) are never left, except `delivered` to `read` (WhatsApp and RCS
 * report a read after the delivery) and the merge of two different terminal results
 * (segments of one message) into `partially_delivered`.
 */
const rank: Readonly<Record<MessageStatus, number>> = {
  accepted: 1,
  scheduled: 1,
  queued: 2,
  sending: 3,
  sent: 4,
  delivered: 10,
  undelivered: 10,
  failed: 10,
  canceled: 10,
  partially_delivered: 11,
  read: 11,
};

/**
 * Whether `status` is one Twilio documents for an outbound message (a callback's
 * `MessageStatus` is untrusted input: check it before {@link advanceMessageStatus}).
 *
 * @param status - Anything.
 * @returns `true` for a {@link MessageStatus}.
 * @example
 * ```ts
 * import { isMessageStatus } from '@hardening/core';
 * isMessageStatus('delivered'); // true
 * isMessageStatus('toString'); // false
 * ```
 */
export function isMessageStatus(status: unknown): status is MessageStatus {
  return typeof status === 'string' && Object.hasOwn(rank, status);
}

/**
 * Whether a message in `status` will not change any more (apart from a read receipt or a
 * segment merge): delivered, read, undelivered, failed, canceled, partially_delivered.
 *
 * @param status - A Twilio message status.
 * @returns `true` for a final status.
 * @example
 * ```ts
 * import { isFinalMessageStatus } from '@hardening/core';
 * isFinalMessageStatus('sent'); // false: a receipt should still come
 * ```
 */
export function isFinalMessageStatus(status: MessageStatus): boolean {
  return rank[status] >= 10;
}

/** What {@link advanceMessageStatus} decided. */
export interface MessageStatusStep {
  /** The status to keep (`current` when the update is ignored). */
  readonly status: MessageStatus;
  /** Whether it differs from `current`. */
  readonly changed: boolean;
  /** Why: `forward`, `stale` (older than what we have), `same`, `terminal` (a final status is kept), `merged` (two final results of one message). */
  readonly reason: 'forward' | 'stale' | 'same' | 'terminal' | 'merged';
}

const failed = new Set<MessageStatus>(['undelivered', 'failed']);

/**
 * The forward-only state machine of a message's delivery status. Twilio posts status
 * callbacks without an order guarantee (a `sent` after `delivered`, two in one second),
 * and a multi-segment message can report a failure and a success: an update may only move
 * the message forward, a final status is never overwritten by an earlier or a different
 * one, and a success and a failure of one message merge into `partially_delivered`.
 *
 * @param current - The status stored, or `undefined` for none yet.
 * @param incoming - The status a callback (or a lookup) reports.
 * @returns The status to store, and why.
 * @example
 * ```ts
 * import { advanceMessageStatus } from '@hardening/core';
 * advanceMessageStatus('delivered', 'sent'); // { status: 'delivered', changed: false, reason: 'terminal' }
 * advanceMessageStatus('sent', 'delivered'); // { status: 'delivered', changed: true, reason: 'forward' }
 * advanceMessageStatus('undelivered', 'delivered'); // { status: 'partially_delivered', changed: true, reason: 'merged' }
 * ```
 */
export function advanceMessageStatus(current: MessageStatus | undefined, incoming: MessageStatus): MessageStatusStep {
  if (current === undefined) return { status: incoming, changed: true, reason: 'forward' };
  if (current === incoming) return { status: current, changed: false, reason: 'same' };
  if (isFinalMessageStatus(current)) {
    if (current === 'delivered' && incoming === 'read') return { status: 'read', changed: true, reason: 'forward' };
    const mixed =
      current === 'delivered' || current === 'read' ? failed.has(incoming) : failed.has(current) && (incoming === 'delivered' || incoming === 'read');
    if (mixed) return { status: 'partially_delivered', changed: true, reason: 'merged' };
    return { status: current, changed: false, reason: 'terminal' };
  }
  if (rank[incoming] > rank[current]) return { status: incoming, changed: true, reason: 'forward' };
  return { status: current, changed: false, reason: 'stale' };
}
