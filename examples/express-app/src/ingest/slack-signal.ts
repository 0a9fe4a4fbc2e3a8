import type { AppContext } from '../app-context.js';
import { deliveryLog } from '../jobs/delivery-log.js';
import { QueueAddTimeoutError } from '../jobs/job-queue.js';
import type { SlackEventEnvelope } from './slack-envelope.js';

/** What {@link storeSlackSignal} uses of the app context. */
export type SlackSignalDeps = Pick<AppContext, 'db' | 'queue' | 'logger'>;

/**
 * Stores a Slack message event as a signal and queues its evaluation (the webhook, and the
 * spool drain). Idempotent on `event_id`: storing the same event again writes no second
 * signal, so an event both stored by its webhook and spooled is kept once.
 *
 * @param deps - The database, the job queue and the logger.
 * @param envelope - A verified, readable envelope (see `readSlackBody`).
 * @throws What the database or the queue throws.
 * @example
 * ```ts
 * const body = readSlackBody(JSON.parse(raw));
 * if (body.kind === 'event') await storeSlackSignal(ctx, body.envelope);
 * ```
 */
export async function storeSlackSignal(deps: SlackSignalDeps, envelope: SlackEventEnvelope): Promise<void> {
  const event = envelope.event;
  if (event.type !== 'message' || event.bot_id !== undefined || event.subtype !== undefined) return;
  const signal = await deps.db.prisma.slackSignal.upsert({
    where: { eventId: envelope.event_id },
    create: { eventId: envelope.event_id, channel: event.channel ?? '', userId: event.user ?? null, text: event.text ?? '', messageTs: event.ts ?? null },
    update: {},
  });
  const deliveryId = await deliveryLog.record(
    deps.db.prisma,
    { provider: 'slack', eventId: envelope.event_id, kind: 'evaluate_slack_signal' },
    { signalId: signal.id },
  );
  try {
    await deps.queue.add({ kind: 'evaluate_slack_signal', deliveryId, payload: { signalId: signal.id } });
  } catch (error) {
    if (!(error instanceof QueueAddTimeoutError)) throw error;
    // The event is stored and its delivery is pending: the sweep queues it again. Thrown, it
    // would read as "could not be stored" and spool a copy of an event already kept.
    deps.logger.warn({ eventId: envelope.event_id, deliveryId }, 'Slack signal stored; its evaluation will be queued by the sweep (the queue did not answer)');
  }
}
