import { isHardeningError, maskPhoneNumber, scrubText } from '@hardening/core';
import type { AppContext } from '../app-context.js';
import { processInbound } from '../domain/inbound.js';
import { afterProcessing } from '../ingest/processed-sms.js';
import { createStripeEventProcessor, stripeEventFromPayload, type StripeEventFacts, type StripeEventProcessor } from '../ingest/stripe-event.js';
import { texts } from '../domain/messages.js';
import { enqueueSms } from '../domain/outbox.js';
import { deliveryLog } from './delivery-log.js';
import type { Job } from './job-queue.js';
import { evaluateSlackSignal } from './slack-signal.js';

async function runJob(ctx: AppContext, job: Job, stripeEvents: () => StripeEventProcessor): Promise<void> {
  switch (job.kind) {
    case 'process_inbound': {
      const inboxId = job.payload.inboxId!;
      try {
        const outcome = await processInbound(ctx.db.prisma, inboxId, ctx.processing);
        if (outcome.kind === 'processed') {
          const row = await ctx.db.prisma.inboundEvent.findUniqueOrThrow({ where: { id: inboxId }, select: { payload: true } });
          const payload = row.payload as Record<string, string>;
          afterProcessing(ctx, { messageSid: payload.MessageSid!, from: payload.From!, to: payload.To!, body: payload.Body ?? '' }, outcome);
        }
      } catch (error) {
        if (!(isHardeningError(error) && error.code === 'INVARIANT_VIOLATION')) throw error;
        // Not worth retrying: apologise to the sender (they already have the holding reply) and alert.
        const row = await ctx.db.prisma.inboundEvent.findUniqueOrThrow({ where: { id: inboxId } });
        const payload = row.payload as Record<string, string>;
        await enqueueSms(ctx.db.prisma, { to: payload.From!, from: payload.To!, body: texts.politeError, purpose: 'reply' });
        ctx.alert({
          type: 'INVARIANT_VIOLATION',
          severity: 'HIGH',
          resourceId: payload.MessageSid,
          title: 'Invariant violation on an inbound SMS',
          message: error.message,
        });
      }
      return;
    }
    case 'evaluate_slack_signal':
      await evaluateSlackSignal(ctx, job.payload.signalId!);
      return;
    case 'process_stripe_event':
      await runDeferredStripeEvent(stripeEvents(), stripeEventFromPayload(job.payload));
      return;
  }
}

/**
 * A Stripe event a redelivery kept while another delivery held its claim (see
 * `deferStripeEvent`): run through the same claims, without waiting on a holder. Still held,
 * or no store to record it: thrown, so the queue retries it (the delivery log keeps it open
 * for the sweep after the last retry fails short of a dead letter). A replay means the holder
 * finished it: done.
 */
async function runDeferredStripeEvent(process: StripeEventProcessor, event: StripeEventFacts): Promise<void> {
  const outcome = await process(event, { onInProgress: 'error', recordTimeoutMs: 1500 });
  if (outcome.kind === 'unrecorded') throw new Error(`deferred Stripe event not recorded: ${scrubText(String(outcome.error))}`);
  if (outcome.result.inProgress) throw new Error('deferred Stripe event still held by another delivery');
}

/**
 * Starts the queue's workers: each job updates its delivery-log row (processing, then
 * completed or failed), and a job that failed its last attempt is dead-lettered there
 * with an alert. An inbound SMS that never got processed is the worst case (its sender only
 * has the holding reply): HIGH alert.
 */
export function startJobRunner(ctx: AppContext): void {
  let stripeEvents: StripeEventProcessor | undefined;
  const stripeProcessor = () => (stripeEvents ??= createStripeEventProcessor(ctx));
  ctx.queue.start(
    async (job) => {
      await deliveryLog.processing(ctx.db.prisma, job.deliveryId);
      try {
        await runJob(ctx, job, stripeProcessor);
      } catch (error) {
        await deliveryLog.failed(ctx.db.prisma, job.deliveryId, error, false).catch(() => {});
        throw error;
      }
      await deliveryLog.completed(ctx.db.prisma, job.deliveryId);
    },
    async (job, error, attempts) => {
      await deliveryLog.failed(ctx.db.prisma, job.deliveryId, error, true).catch(() => {});
      const inbound = job.kind === 'process_inbound';
      if (inbound) {
        const row = await ctx.db.prisma.inboundEvent.update({ where: { id: job.payload.inboxId! }, data: { status: 'dead_letter' } }).catch(() => undefined);
        ctx.logger.error(
          { deliveryId: job.deliveryId, from: row === undefined ? undefined : maskPhoneNumber(String((row.payload as Record<string, string>).From)), attempts },
          'inbound SMS dead-lettered: processing failed on every attempt',
        );
      }
      ctx.alert({
        type: inbound ? 'SMS_PROCESSING_FAILED' : 'JOB_DEAD_LETTER',
        severity: inbound ? 'HIGH' : 'MEDIUM',
        resourceId: job.deliveryId,
        title: inbound ? 'An inbound SMS could not be processed' : `Job ${job.kind} dead-lettered`,
        message: `${attempts} attempts failed: ${scrubText(String(error)).slice(0, 300)}`,
      });
    },
  );
}
