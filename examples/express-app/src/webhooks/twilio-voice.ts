import { Router } from 'express';
import { maskPhoneNumber, scrubText } from '@hardening/core';
import type { AppContext } from '../app-context.js';
import { handleMissedCall } from '../domain/conversation.js';
import { texts } from '../domain/messages.js';
import { completeTestCall } from '../domain/onboarding.js';
import { toE164 } from '../domain/phone.js';
import { sendProblem } from '../http/problem.js';
import { providerSid, storableFields } from './input-text.js';
import { verifyTwilioSignature } from './twilio-signature.js';
import { emptyTwiml } from './twiml.js';

/** Call statuses that mean nobody picked up. */
const missedStatuses = new Set(['no-answer', 'busy', 'failed']);
/** Every CallStatus Twilio documents; anything else is acknowledged and ignored. */
const knownStatuses = new Set(['queued', 'initiated', 'ringing', 'in-progress', 'answered', 'completed', 'busy', 'failed', 'no-answer', 'canceled']);
/** Statuses after which a call is over (a test call counts whatever its end). */
const finalStatuses = new Set(['completed', 'no-answer', 'busy', 'failed', 'canceled']);

/** What a voice status callback led to. */
export type CallOutcome = 'missed_call_texted' | 'test_call_completed' | 'failsafe_sent' | 'ignored';

/**
 * POST /api/twilio/status: Twilio's voice status callback.
 *
 * - A missed call (no-answer, busy, failed) to a client's number texts the caller back in
 *   the business's name, through the outbox.
 * - The owner's call to their own new number completes onboarding (S9_TEST_CALL).
 * - A missed call to a number of no client (the system number, say) gets a generic
 *   fail-safe SMS, sent once per CallSid through the idempotency store, with no database
 *   row naming the caller, a metric and an action-required warning: nobody is left in
 *   silence, and nothing touches onboarding.
 * - A missed call that cannot be processed (the database is down) gets the same fail-safe
 *   SMS from the number called, an error log and a CALL_PROCESSING_FAILED alert.
 *
 * A Twilio retry of the same CallSid and status is answered without processing.
 */
export function twilioVoiceRoutes(ctx: AppContext): Router {
  const router = Router();
  const { logger, metrics } = ctx;
  router.post(
    '/api/twilio/status',
    verifyTwilioSignature({ authToken: ctx.config.twilio?.authToken, publicBaseUrl: ctx.config.env.PUBLIC_BASE_URL, logger, metrics }),
    async (req, res) => {
      const { fields: params, escaped } = storableFields(req.body);
      // An id is refused, not repaired: no provider sends one that needed cleaning.
      const sid = providerSid.safeParse('CallSid' in escaped ? undefined : params.CallSid);
      const callSid = sid.success ? sid.data : undefined;
      const status = params.CallStatus;
      const from = toE164(params.From);
      const to = toE164(params.To);
      if (!callSid || !status || from === undefined || to === undefined) {
        sendProblem(res, { title: 'Bad request', status: 400, detail: 'CallSid, CallStatus, From and To must be present and valid.' });
        return;
      }
      if (!knownStatuses.has(status)) {
        // Signed, but no status Twilio documents (and no dedup key fits a 5,000-character
        // one): acknowledge so Twilio does not retry, and say so.
        metrics.webhooks.inc({ provider: 'twilio_voice', outcome: 'ignored' });
        logger.warn({ callSid, statusLength: status.length }, 'voice status callback ignored: unknown CallStatus');
        res.type('text/xml').send(emptyTwiml);
        return;
      }
      let handled = false;
      let out;
      try {
        out = await ctx.dedup.twilio({ headers: req.headers, params }, async () => {
          const outcome = await handleCallStatus(ctx, { callSid, status, from, to });
          handled = true;
          metrics.webhooks.inc({ provider: 'twilio_voice', outcome });
          return emptyTwiml;
        }, { kind: 'voice-status' });
      } catch (error) {
        // Handled, and only recording that failed: nothing more to do. Otherwise the database
        // (or the idempotency store) failed before the call was dealt with: we cannot tell
        // whose number it is, but a caller who was missed must still hear from us.
        if (handled || !missedStatuses.has(status)) throw error;
        metrics.webhooks.inc({ provider: 'twilio_voice', outcome: 'failsafe_on_error' });
        logger.error({ callSid, from: maskPhoneNumber(from), to: maskPhoneNumber(to), err: scrubText(String(error)) }, 'missed call could not be processed; fail-safe SMS sent instead');
        ctx.alert({
          type: 'CALL_PROCESSING_FAILED',
          severity: 'HIGH',
          resourceId: callSid,
          title: 'A missed call could not be processed',
          message: `The caller to ${maskPhoneNumber(to)} got the generic fail-safe SMS: ${scrubText(String(error))}`,
        });
        await sendFailsafeSms(ctx, { callSid, from, to });
        res.type('text/xml').send(emptyTwiml);
        return;
      }
      if (out.duplicate) metrics.duplicates.inc({ provider: 'twilio_voice' });
      res.status(out.status).set(out.headers).send(out.body);
    },
  );
  return router;
}

/** Applies one voice status callback (exported for the jobs and the tests). */
export async function handleCallStatus(ctx: AppContext, call: { callSid: string; status: string; from: string; to: string }): Promise<CallOutcome> {
  const number = await ctx.db.prisma.poolNumber.findUnique({ where: { phoneNumber: call.to }, include: { client: true } });
  const client = number?.status === 'ASSIGNED' && number.role === 'CLIENT' ? number.client : null;
  if (client === null || number === null) {
    if (!missedStatuses.has(call.status)) return 'ignored';
    await sendFailsafe(ctx, call);
    return 'failsafe_sent';
  }
  if (call.from === client.phone && finalStatuses.has(call.status)) {
    const completed = await ctx.db.prisma.$transaction((tx) => completeTestCall(tx, client, ctx.config.systemNumber));
    if (completed) return 'test_call_completed';
  }
  if (!missedStatuses.has(call.status) || call.from === client.phone) return 'ignored';
  await ctx.db.prisma.$transaction((tx) => handleMissedCall(tx, { client, clientNumber: number.phoneNumber, callerPhone: call.from }));
  return 'missed_call_texted';
}

async function sendFailsafe(ctx: AppContext, call: { callSid: string; from: string; to: string }): Promise<void> {
  const { logger, metrics } = ctx;
  // Inside the once-per-call guard: one intake per call, whatever Twilio sends about it.
  await sendFailsafeSms(ctx, call, () => {
    metrics.failsafeIntakes.inc();
    logger.warn(
      { callSid: call.callSid, from: maskPhoneNumber(call.from), to: maskPhoneNumber(call.to), action: 'required' },
      'ACTION REQUIRED: call to a number of no client; fail-safe SMS sent to the caller',
    );
  });
}

/**
 * Texts the caller the generic fail-safe message from the number they called, once per
 * CallSid (the idempotency store remembers it). When that store cannot answer, the SMS is
 * sent anyway: a possible duplicate beats a caller left in silence.
 */
async function sendFailsafeSms(ctx: AppContext, call: { callSid: string; from: string; to: string }, onFirst?: () => void): Promise<void> {
  const { logger } = ctx;
  let started = false;
  const send = async () => {
    started = true;
    onFirst?.();
    if (ctx.sms === undefined) {
      logger.warn({ callSid: call.callSid, to: maskPhoneNumber(call.from) }, 'SMS not sent: Twilio not configured');
      return 'not_sent';
    }
    try {
      await ctx.safeCall('twilio_sms', () => ctx.sms!.send({ to: call.from, from: call.to, body: texts.failsafe }), { correlationId: call.callSid });
      return 'sent';
    } catch (error) {
      logger.error({ callSid: call.callSid, to: maskPhoneNumber(call.from), err: scrubText(String(error)) }, 'MESSAGE LOST: fail-safe SMS could not be sent');
      ctx.alert({ type: 'MESSAGE_LOST', severity: 'HIGH', resourceId: call.callSid, title: 'Fail-safe SMS lost', message: `A caller to ${maskPhoneNumber(call.to)} got no reply: ${scrubText(String(error))}` });
      return 'lost';
    }
  };
  try {
    await ctx.once.run(`failsafe:${call.callSid}`, send);
  } catch (error) {
    if (started) {
      // Sent (or logged as lost); only remembering it failed.
      logger.warn({ callSid: call.callSid, err: scrubText(String(error)) }, 'idempotency store could not record the fail-safe SMS');
      return;
    }
    logger.warn({ callSid: call.callSid, err: scrubText(String(error)) }, 'idempotency store unavailable; fail-safe SMS sent without its once-per-call guard');
    await send();
  }
}
