import type { AppContext } from '../app-context.js';
import { toE164 } from '../domain/phone.js';
import type { InboundSms } from '../domain/routing.js';
import { deliveryLog } from '../jobs/delivery-log.js';
import { providerSid } from './input-text.js';

/**
 * Reads the SMS out of Twilio's form parameters (the webhook's, or a spooled copy's).
 *
 * @param params - Twilio's form parameters, already made storable.
 * @returns The SMS, or undefined when MessageSid, From or To is missing or invalid.
 * @example
 * ```ts
 * const sms = readInboundSms({ MessageSid: 'SM0123456789abcdef0123456789abcdef', From: '+15551230001', To: '+15551230002', Body: 'Hi' });
 * ```
 */
export function readInboundSms(params: Record<string, unknown>): InboundSms | undefined {
  const sid = providerSid.safeParse(params.MessageSid);
  const messageSid = sid.success ? sid.data : undefined;
  const from = toE164(params.From);
  const to = toE164(params.To);
  if (messageSid === undefined || from === undefined || to === undefined) return undefined;
  return { messageSid, from, to, body: typeof params.Body === 'string' ? params.Body : '' };
}

/** What {@link queueInboundRetry} uses of the app context. */
export type InboundRetryDeps = Pick<AppContext, 'db' | 'queue'>;

/**
 * Queues another processing attempt of an inbox row: a delivery-log row, then the job.
 *
 * @param deps - The database and the job queue.
 * @param inboxId - The inbox row to process.
 * @param messageSid - Twilio's id of the SMS (the delivery's event id).
 * @throws What the database or the queue throws (the sweep queues unprocessed rows again).
 * @example
 * ```ts
 * await queueInboundRetry(ctx, inbox.id, sms.messageSid);
 * ```
 */
export async function queueInboundRetry(deps: InboundRetryDeps, inboxId: string, messageSid: string): Promise<void> {
  const deliveryId = await deliveryLog.record(deps.db.prisma, { provider: 'twilio', eventId: messageSid, kind: 'process_inbound' }, { inboxId });
  await deps.queue.add({ kind: 'process_inbound', deliveryId, payload: { inboxId } });
}
