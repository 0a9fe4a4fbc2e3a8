import { Router } from 'express';
import { maskPhoneNumber, scrubText } from '@hardening/core';
import type { AppContext } from '../app-context.js';
import { FailsafeSender, handleCallStatus, missedStatuses, readCallStatus, type CallStatusDeps, type FailsafeDeps } from '../ingest/missed-call.js';
import { sendProblem } from '../http/problem.js';
import { verifyTwilioSignature } from './twilio-signature.js';
import { storableFields } from '../ingest/input-text.js';
import { emptyTwiml } from './twiml.js';

/** Every CallStatus Twilio documents; anything else is acknowledged and ignored. */
const knownStatuses = new Set(['queued', 'initiated', 'ringing', 'in-progress', 'answered', 'completed', 'busy', 'failed', 'no-answer', 'canceled']);

/** What the voice route uses of the app context. */
export type VoiceRouteDeps = CallStatusDeps & FailsafeDeps & Pick<AppContext, 'dedup'>;

/**
 * POST /api/twilio/status: Twilio's voice status callback (see ingest/missed-call.ts for
 * what a call leads to).
 *
 * - A Twilio retry of the same CallSid and status is answered without processing; when the
 *   idempotency store cannot answer (Redis down), the call is handled anyway: its one text
 *   is guarded by the outbox's send key, so live clients' callers still get the business's
 *   text, once.
 * - A missed call that cannot be processed (the database is down) gets the generic
 *   fail-safe SMS from the number called at once, an error log and a CALL_PROCESSING_FAILED
 *   alert; the call is spooled, so the text is recorded (or sent through the outbox when
 *   Twilio failed too) once the database is back. Never lost, once per CallSid.
 */
export function twilioVoiceRoutes(ctx: VoiceRouteDeps): Router {
  const router = Router();
  const { logger, metrics } = ctx;
  const failsafe = new FailsafeSender(ctx);
  router.post(
    '/api/twilio/status',
    verifyTwilioSignature({ authToken: ctx.config.twilio?.authToken, publicBaseUrl: ctx.config.env.PUBLIC_BASE_URL, logger, metrics }),
    async (req, res) => {
      const { fields: params, escaped } = storableFields(req.body);
      // An id is refused, not repaired: no provider sends one that needed cleaning.
      const call = 'CallSid' in escaped ? undefined : readCallStatus(params);
      if (call === undefined) {
        sendProblem(res, { title: 'Bad request', status: 400, detail: 'CallSid, CallStatus, From and To must be present and valid.' });
        return;
      }
      if (!knownStatuses.has(call.status)) {
        // Signed, but no status Twilio documents (and no dedup key fits a 5,000-character
        // one): acknowledge so Twilio does not retry, and say so.
        metrics.webhooks.inc({ provider: 'twilio_voice', outcome: 'ignored' });
        logger.warn({ callSid: call.callSid, statusLength: call.status.length }, 'voice status callback ignored: unknown CallStatus');
        res.type('text/xml').send(emptyTwiml);
        return;
      }
      let started = false;
      let handled = false;
      const handle = async () => {
        started = true;
        const outcome = await handleCallStatus(ctx, call);
        handled = true;
        metrics.webhooks.inc({ provider: 'twilio_voice', outcome });
        return emptyTwiml;
      };
      let failure: unknown;
      try {
        const out = await ctx.dedup.twilio({ headers: req.headers, params }, handle, { kind: 'voice-status' });
        if (out.duplicate) metrics.duplicates.inc({ provider: 'twilio_voice' });
        if (out.inProgress) {
          // The first delivery is still stuck (a hung database): it texts the caller (once,
          // by the send key). Twilio treats a 409 as a failed webhook: answer 200.
          res.type('text/xml').send(emptyTwiml);
          return;
        }
        res.status(out.status).set(out.headers).send(out.body);
        return;
      } catch (error) {
        failure = error;
      }
      if (handled) {
        // Handled; only recording that failed. A redelivery finds the outbox's send key.
        logger.warn({ callSid: call.callSid, err: scrubText(String(failure)) }, 'idempotency store could not record the voice status callback');
        res.type('text/xml').send(emptyTwiml);
        return;
      }
      if (!started) {
        // The idempotency store itself is down: carry on without it, as the SMS route does.
        logger.warn({ callSid: call.callSid, err: scrubText(String(failure)) }, 'idempotency store unavailable; relying on the outbox send key');
        try {
          await handle();
          res.type('text/xml').send(emptyTwiml);
          return;
        } catch (error) {
          failure = error;
        }
      }
      // The database failed before the call was dealt with: we cannot tell whose number it
      // is, but a caller who was missed must still hear from us.
      if (!missedStatuses.has(call.status)) throw failure;
      metrics.webhooks.inc({ provider: 'twilio_voice', outcome: 'failsafe_on_error' });
      const sent = await failsafe.send(call, params);
      if (sent === 'sent') {
        logger.error({ callSid: call.callSid, from: maskPhoneNumber(call.from), to: maskPhoneNumber(call.to), err: scrubText(String(failure)) }, 'missed call could not be processed; fail-safe SMS sent instead');
        ctx.alert({
          type: 'CALL_PROCESSING_FAILED',
          severity: 'HIGH',
          resourceId: call.callSid,
          title: 'A missed call could not be processed',
          message: `The caller to ${maskPhoneNumber(call.to)} got the generic fail-safe SMS: ${scrubText(String(failure))}`,
        });
      }
      res.type('text/xml').send(emptyTwiml);
    },
  );
  return router;
}
