import { SpanKind } from '@opentelemetry/api';
import { Router } from 'express';
import { maskPhoneNumber, scrubText } from '@hardening/core';
import type { AppContext } from '../app-context.js';
import { FailsafeSender, handleCallStatusOnce, missedStatuses, readCallStatus, type CallStatusOnceDeps, type FailsafeDeps } from '../ingest/missed-call.js';
import { sendProblem } from '../http/problem.js';
import { verifyTwilioSignature } from './twilio-signature.js';
import { storableFields } from '../ingest/input-text.js';
import { emptyTwiml } from './twiml.js';
import { activeTraceparent, inMessageSpan } from '../message-trace.js';

/** Every CallStatus Twilio documents; anything else is acknowledged and ignored. */
const knownStatuses = new Set(['queued', 'initiated', 'ringing', 'in-progress', 'answered', 'completed', 'busy', 'failed', 'no-answer', 'canceled']);

/** A unique-constraint violation (Prisma's P2002, PostgreSQL's 23505): a concurrent twin won. */
function isUniqueViolation(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === 'P2002' || code === '23505' || /Unique constraint failed/.test(String(error));
}

/** Twilio waits 15 s for the answer; past this the call is spooled and answered (see below). */
const answerBudgetMs = 8000;

/** What the voice route uses of the app context. */
export type VoiceRouteDeps = Omit<CallStatusOnceDeps, 'directory'> &
  Omit<FailsafeDeps, 'directory' | 'halts'> &
  Pick<AppContext, 'dedup' | 'directory'> &
  Partial<Pick<AppContext, 'deliverability'>>;

/**
 * POST /api/twilio/status: Twilio's voice status callback (see ingest/missed-call.ts for
 * what a call leads to).
 *
 * - A Twilio retry of the same CallSid and status is answered without processing; when the
 *   idempotency store cannot answer (Redis down), the call is handled anyway: its one text
 *   is guarded by the outbox's send key, so live clients' callers still get the business's
 *   text, once.
 * - A missed call that cannot be processed (the database is down or hung) is texted from the
 *   number called at once: in the business's name when the business directory (the
 *   businesses as last read) knows the number, the generic fail-safe otherwise; an error
 *   log and a CALL_PROCESSING_FAILED alert; the call is spooled, so the text is recorded (or
 *   sent through the outbox when Twilio failed too) once the database is back. Never lost,
 *   once per CallSid (a redelivery handled once the database is back finds the text sent).
 */
export function twilioVoiceRoutes(ctx: VoiceRouteDeps): Router {
  const router = Router();
  const { logger, metrics } = ctx;
  // Kept current by its own timer (the context starts it) and on calls; see its cost there.
  const { directory } = ctx;
  const deps = { ...ctx, directory, ...(ctx.deliverability === undefined ? {} : { halts: ctx.deliverability.halts }) };
  const failsafe = new FailsafeSender(deps);
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
        void directory.refreshIfStale();
        const outcome = await handleCallStatusOnce(deps, call);
        handled = true;
        metrics.webhooks.inc({ provider: 'twilio_voice', outcome });
        return emptyTwiml;
      };
      const ok: { status: number; headers: Readonly<Record<string, string>>; body: string } = {
        status: 200,
        headers: { 'content-type': 'text/xml' },
        body: emptyTwiml,
      };
      /** Everything the callback leads to; resolves with the answer for Twilio. */
      const deal = async (): Promise<typeof ok> => {
        let failure: unknown;
        try {
          const out = await ctx.dedup.twilio({ headers: req.headers, params }, handle, { kind: 'voice-status' });
          if (out.duplicate) metrics.duplicates.inc({ provider: 'twilio_voice' });
          // The first delivery is still stuck (a hung database): it texts the caller (once,
          // by the send key). Twilio treats a 409 as a failed webhook: answer 200.
          if (out.inProgress) return ok;
          return { status: out.status, headers: out.headers, body: out.body };
        } catch (error) {
          failure = error;
        }
        if (handled) {
          // Handled; only recording that failed. A redelivery finds the outbox's send key.
          logger.warn({ callSid: call.callSid, err: scrubText(String(failure)) }, 'idempotency store could not record the voice status callback');
          return ok;
        }
        if (!started) {
          // The idempotency store itself is down: carry on without it, as the SMS route does.
          logger.warn({ callSid: call.callSid, err: scrubText(String(failure)) }, 'idempotency store unavailable; relying on the outbox send key');
          try {
            await handle();
            return ok;
          } catch (error) {
            failure = error;
          }
        }
        if (started && isUniqueViolation(failure)) {
          // Not an outage: a concurrent delivery of this call (another instance, the dedup
          // store down) wrote the same customer or text first. Handled again, this one finds
          // the call's send key taken; texting the fail-safe now would be a second text.
          try {
            await handle();
            return ok;
          } catch (error) {
            failure = error;
          }
        }
        // The database failed before the call was dealt with: we cannot tell whose number it
        // is, but a caller who was missed must still hear from us.
        if (!missedStatuses.has(call.status)) throw failure;
        metrics.webhooks.inc({ provider: 'twilio_voice', outcome: 'failsafe_on_error' });
        const sent = await failsafe.send(call, params);
        if (sent !== 'duplicate') {
          const what =
            sent === 'business_text'
              ? "the business's text (as last read)"
              : sent === 'generic_text'
                ? 'the generic fail-safe SMS'
                : 'no text yet (spooled for when the database is back)';
          const summary =
            sent === 'business_text' ? "business's text sent from the directory" : sent === 'generic_text' ? 'fail-safe SMS sent instead' : 'call spooled';
          logger.error(
            { callSid: call.callSid, from: maskPhoneNumber(call.from), to: maskPhoneNumber(call.to), sent, err: scrubText(String(failure)) },
            `missed call could not be processed; ${summary}`,
          );
          ctx.alert({
            type: 'CALL_PROCESSING_FAILED',
            severity: 'HIGH',
            resourceId: call.callSid,
            title: 'A missed call could not be processed',
            message: `The caller to ${maskPhoneNumber(call.to)} got ${what}: ${scrubText(String(failure))}`,
          });
        }
        return ok;
      };
      // The callback's span: a text-back written to the outbox inside it keeps its context, so
      // the worker's send (and Twilio's receipt after it) link back to this call (issue 15).
      let traceparent: string | null = null;
      const work = inMessageSpan(
        'twilio.call_status',
        {
          kind: SpanKind.SERVER,
          attributes: { 'http.request.method': 'POST', 'http.route': '/api/twilio/status', 'app.call.sid': call.callSid, 'app.call.status': call.status },
        },
        () => {
          traceparent = activeTraceparent(); // for the spooled copy below, written outside the span
          return deal();
        },
      );
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), answerBudgetMs);
      });
      const first = await Promise.race([
        work.then(
          (reply) => ({ reply }),
          (error: unknown) => ({ error }),
        ),
        late,
      ]);
      clearTimeout(timer);
      if (first !== 'late') {
        if ('error' in first) throw first.error;
        res.status(first.reply.status).set(first.reply.headers).send(first.reply.body);
        return;
      }
      // A hung database holds the callback past the budget: Twilio would time out (15 s) and
      // retry into the same hang. The call is spooled before the answer (durable if this
      // instance dies now; its drain goes through the call's once-key, so it never texts a
      // caller the work below already texted), then the work goes on: the database answers
      // late, or fails and the fail-safe texts the caller.
      metrics.webhooks.inc({ provider: 'twilio_voice', outcome: 'answered_before_processing' });
      try {
        await ctx.spool.put({
          provider: 'twilio_voice',
          receivedAt: new Date().toISOString(),
          payload: params,
          call: { fate: 'not_sent' },
          ...(traceparent === null ? {} : { traceparent }),
        });
      } catch (error) {
        logger.warn({ callSid: call.callSid, err: scrubText(String(error)) }, 'slow voice status callback could not be spooled; it is still being processed');
      }
      res.type('text/xml').send(emptyTwiml);
      work.catch((error: unknown) =>
        logger.error(
          { callSid: call.callSid, err: scrubText(String(error)) },
          'voice status callback failed after it was answered; the spooled copy is drained once the database is back',
        ),
      );
    },
  );
  return router;
}
