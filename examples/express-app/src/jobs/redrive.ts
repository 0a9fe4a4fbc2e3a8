import { randomUUID } from 'node:crypto';
import type { AppContext } from '../app-context.js';
import type { WebhookDelivery } from '../db/generated/client.js';
import { deliveryLog } from './delivery-log.js';
import type { JobKind } from './job-queue.js';

/** Delivery statuses an operator may re-drive. */
export const redrivableStatuses = ['dead_letter', 'failed'] as const;

/** What {@link redriveDelivery} did. */
export type RedriveOutcome =
  | { readonly kind: 'not_found' }
  | { readonly kind: 'conflict'; readonly status: string }
  | { readonly kind: 'queued'; readonly delivery: WebhookDelivery }
  /** Pending again, but the queue refused the job: the sweep queues pending deliveries again. */
  | { readonly kind: 'not_queued'; readonly delivery: WebhookDelivery; readonly error: unknown };

/**
 * Sends a dead-lettered (or failing) delivery round again: the row goes back to `pending`
 * with its attempts reset, an inbound SMS dead-lettered with it becomes processable again,
 * and the job is queued under the same delivery id (replacing the failed job BullMQ kept).
 * The status change is conditional, so two operators re-driving at once queue it once.
 *
 * @returns `not_found`, `conflict` (completed, pending or processing: nothing to re-drive),
 *   `queued`, or `not_queued` when the queue refused it.
 */
export async function redriveDelivery(ctx: Pick<AppContext, 'db' | 'queue' | 'logger'>, id: string): Promise<RedriveOutcome> {
  const db = ctx.db.prisma;
  const claimed = await db.webhookDelivery.updateMany({
    where: { id, status: { in: [...redrivableStatuses] } },
    data: { status: 'pending', attempts: 0, lastError: null },
  });
  const delivery = await db.webhookDelivery.findUnique({ where: { id } });
  if (delivery === null) return { kind: 'not_found' };
  if (claimed.count === 0) return { kind: 'conflict', status: delivery.status };
  const payload = toStringRecord(delivery.payload);
  if (delivery.kind === 'process_inbound' && payload.inboxId !== undefined) {
    // The runner marked the inbox row dead_letter with the delivery; processInbound skips those.
    await db.inboundEvent.updateMany({ where: { id: payload.inboxId, status: 'dead_letter' }, data: { status: 'failed' } });
  }
  try {
    await ctx.queue.add({ kind: delivery.kind as JobKind, deliveryId: delivery.id, payload }, { replace: true });
  } catch (error) {
    ctx.logger.warn({ deliveryId: id, err: String(error) }, 're-driven delivery is pending but could not be queued now');
    return { kind: 'not_queued', delivery, error };
  }
  ctx.logger.info({ deliveryId: id, kind: delivery.kind, provider: delivery.provider }, 'delivery re-driven by an operator');
  return { kind: 'queued', delivery };
}

/** What {@link replaySlackSignal} did. */
export type ReplayOutcome = { readonly kind: 'not_found' } | { readonly kind: 'queued'; readonly deliveryId: string; readonly previousStatus: string };

/**
 * Replays a stored Slack signal's evaluation (a timed-out or failed one, or any other on
 * request): its status goes back to `stored` and `evaluate_slack_signal` is queued under a
 * new delivery (`<event_id>:replay:<uuid>`), so the delivery log shows the replay apart
 * from the original delivery.
 *
 * @returns `not_found`, or `queued` with the new delivery id.
 */
export async function replaySlackSignal(ctx: Pick<AppContext, 'db' | 'queue' | 'logger'>, signalId: string): Promise<ReplayOutcome> {
  const db = ctx.db.prisma;
  const signal = await db.slackSignal.findUnique({ where: { id: signalId } });
  if (signal === null) return { kind: 'not_found' };
  await db.slackSignal.update({ where: { id: signalId }, data: { status: 'stored', result: null, evaluatedAt: null } });
  const deliveryId = await deliveryLog.record(
    db,
    { provider: 'slack', eventId: `${signal.eventId}:replay:${randomUUID()}`, kind: 'evaluate_slack_signal' },
    { signalId, replayOf: signal.eventId },
  );
  await ctx.queue.add({ kind: 'evaluate_slack_signal', deliveryId, payload: { signalId } });
  ctx.logger.info({ signalId, deliveryId, previousStatus: signal.status }, 'Slack signal evaluation replayed by an operator');
  return { kind: 'queued', deliveryId, previousStatus: signal.status };
}

function toStringRecord(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}
