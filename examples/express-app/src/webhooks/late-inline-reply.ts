/**
 * The inbound SMS webhook's two ways out when a reply committed for its TwiML answer cannot
 * have reached Twilio: Twilio gave up on the delivery first ({@link answerLost}), or the
 * webhook itself answered the holding text while that write was still in flight on a hung
 * database ({@link handOverLateReply}). Either way the reply goes through the outbox once,
 * unless a redelivery already answered with it (domain/inline-reply.ts decides who).
 */
import type { AppContext } from '../app-context.js';
import { describeError } from '../db/refused-input.js';
import { moveInlineReplyToOutbox, type InFlightWrite } from '../domain/inline-reply.js';
import { texts } from '../domain/messages.js';
import type { InboundSms } from '../domain/routing.js';
import { messageTwiml } from './twiml.js';

/** How long a move waits before each try while the database fails (ms); the last failure is thrown. */
const moveDelaysMs = [0, 500, 1000, 2000, 4000];

/**
 * {@link moveInlineReplyToOutbox}, tried again while the database fails. (A loop over five
 * delays: the app does not depend on p-retry, and its jitter and options add nothing here.)
 */
async function moveWithRetries(ctx: AppContext, sms: InboundSms, write: InFlightWrite): Promise<boolean> {
  let lastError: unknown;
  for (const delay of moveDelaysMs) {
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    try {
      return await moveInlineReplyToOutbox(ctx.db.prisma, write.inboxId, sms, write.purpose);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/**
 * Processing committed the reply as this delivery's TwiML answer, but Twilio gave up on the
 * delivery first (issue 11: a first delivery hung on the database past Twilio's 15 s, its
 * reply recorded as sent inline, and Twilio's retry was answered the holding text): the
 * reply goes through the outbox instead, unless a redelivery already answered with it. The
 * answer returned (recorded by the dedup for a redelivery waiting on it) is the holding
 * text: the reply arrives once, by SMS.
 *
 * @param write - The row processing committed, and its reply's outbox purpose.
 * @param reply - The reply the TwiML answer carried.
 * @returns The TwiML to record as this delivery's answer.
 * @example
 * ```ts
 * if (outcome.viaTwiml && answer.isLost()) return answerLost(ctx, sms, { inboxId: outcome.inboxId, purpose }, outcome.result.reply);
 * ```
 */
export async function answerLost(ctx: AppContext, sms: InboundSms, write: InFlightWrite, reply: string): Promise<string> {
  const { logger, metrics } = ctx;
  try {
    const moved = await moveWithRetries(ctx, sms, write);
    metrics.webhooks.inc({ provider: 'twilio_sms', outcome: moved ? 'answer_lost_outbox' : 'answer_lost_replayed' });
    logger.warn(
      { messageSid: sms.messageSid, moved },
      moved
        ? 'Twilio gave up before the TwiML reply was written; the reply goes through the outbox'
        : 'Twilio gave up before the TwiML reply was written; a redelivery already answered with it',
    );
    return moved ? messageTwiml(texts.holding) : messageTwiml(reply);
  } catch (error) {
    logger.error({ messageSid: sms.messageSid, err: describeError(error) }, 'could not move a lost inline reply to the outbox');
    ctx.alert({
      type: 'INLINE_REPLY_LOST',
      severity: 'HIGH',
      resourceId: sms.messageSid,
      title: 'An SMS reply may not have reached the customer',
      message: `Twilio gave up on message ${sms.messageSid} before its reply was written, and the database did not take the reply for the outbox: ${describeError(error).slice(0, 200)}`,
    });
    return messageTwiml(reply);
  }
}

/**
 * The webhook answered the holding text while this delivery's write, which had claimed the
 * TwiML answer, was in flight; the write has settled since: if it committed (it resolved,
 * or it failed on a connection reset after PostgreSQL had run it), its reply, which nobody
 * received, goes through the outbox now. Never throws: a database still failing leaves the
 * move to the spool drain, whose copy of the event carries the same write.
 *
 * @example
 * ```ts
 * receiving.finally(() => void handOverLateReply(ctx, sms, { inboxId: row.id, purpose }));
 * ```
 */
export async function handOverLateReply(ctx: AppContext, sms: InboundSms, write: InFlightWrite): Promise<void> {
  const { logger, metrics } = ctx;
  try {
    if (!(await moveWithRetries(ctx, sms, write))) return; // not committed, or a redelivery answered with it
    metrics.webhooks.inc({ provider: 'twilio_sms', outcome: 'late_write_outbox' });
    logger.warn({ messageSid: sms.messageSid }, 'a write in flight committed after its holding answer; the reply goes through the outbox');
  } catch (error) {
    logger.warn({ messageSid: sms.messageSid, err: describeError(error) }, 'could not hand the reply of a late write to the outbox yet; the spool drain will');
  }
}
