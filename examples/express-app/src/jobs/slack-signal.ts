import { isRetriesExhaustedError, isTimeoutError, scrubText } from '@hardening/core';
import type { AppContext } from '../app-context.js';

/** Evaluations longer than this are abandoned; the signal stays stored for a replay (the default of `ctx.signalEvaluationTimeoutMs`). */
export const evaluationTimeoutMs = 25_000;

/**
 * Evaluates a stored Slack signal: fetches its permalink, then asks the extractor whether
 * it reports an emergency (alerting when it does), within 25 s (`ctx.signalEvaluationTimeoutMs`). A timed-out evaluation
 * leaves the signal `timed_out` (replay it with POST /automations/replay/:signalId); any
 * other failure marks it `failed` and throws so the queue retries.
 */
export async function evaluateSlackSignal(ctx: AppContext, signalId: string): Promise<void> {
  const signal = await ctx.db.prisma.slackSignal.findUnique({ where: { id: signalId } });
  if (signal === null || signal.status === 'evaluated') return;
  let permalink = signal.permalink;
  if (permalink === null && ctx.slack !== undefined && signal.messageTs !== null) {
    permalink = await ctx
      .safeCall('slack_api', () => ctx.slack!.chat.getPermalink({ channel: signal.channel, message_ts: signal.messageTs! }))
      .then((r) => r.permalink ?? null)
      .catch((error: unknown) => {
        ctx.logger.warn({ signalId, err: scrubText(String(error)) }, 'Slack permalink unavailable');
        return null;
      });
  }
  try {
    const extraction = await ctx.safeCall('signal_evaluation', (abort) => ctx.extractor.extract('customer_message', signal.text, abort), {
      timeoutMs: ctx.signalEvaluationTimeoutMs,
      attempts: 1,
    });
    await ctx.db.prisma.slackSignal.update({
      where: { id: signalId },
      data: { status: 'evaluated', result: extraction.urgent ? 'urgent' : 'normal', evaluatedAt: new Date(), permalink },
    });
    if (extraction.urgent) {
      ctx.alert({
        type: 'SLACK_URGENT_SIGNAL',
        severity: 'MEDIUM',
        resourceId: signal.eventId,
        title: 'Urgent request in Slack',
        message: signal.text.slice(0, 300),
        context: { permalink },
      });
    }
  } catch (error) {
    const timedOut = isTimeoutError(error) || (isRetriesExhaustedError(error) && isTimeoutError(error.cause));
    await ctx.db.prisma.slackSignal.update({
      where: { id: signalId },
      data: { status: timedOut ? 'timed_out' : 'failed', result: scrubText(String(error)).slice(0, 300), permalink },
    });
    if (timedOut) {
      ctx.logger.warn({ signalId }, 'Slack signal evaluation timed out; stored for replay');
      return;
    }
    throw error;
  }
}
