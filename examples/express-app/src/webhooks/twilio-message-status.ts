import { Router } from 'express';
import { SpanKind } from '@opentelemetry/api';
import type { AppContext } from '../app-context.js';
import { inMessageSpan } from '../message-trace.js';
import { outboxRowId, providerSid, storableFields } from '../ingest/input-text.js';
import { verifyTwilioSignature } from './twilio-signature.js';
import { emptyTwiml } from './twiml.js';

/** Every MessageStatus Twilio documents. */
const messageStatuses = new Set([
  'accepted',
  'scheduled',
  'canceled',
  'queued',
  'sending',
  'sent',
  'failed',
  'delivered',
  'undelivered',
  'receiving',
  'received',
  'read',
  'partially_delivered',
]);

/**
 * POST /api/twilio/message-status?outboxId=...: delivery updates for SMS the outbox sent,
 * applied by the deliverability rules (domain/deliverability): deduplicated on (MessageSid,
 * MessageStatus), forward-only, a final status never overwritten; an undelivered message's
 * error code decides (21610 records an opt-out, a recipient's terminal code suppresses the
 * pair, a sender's systemic code halts the sender and pages once, anything else is a LOW
 * alert).
 */
export function twilioMessageStatusRoutes(ctx: AppContext): Router {
  const router = Router();
  router.post(
    '/api/twilio/message-status',
    verifyTwilioSignature({ authToken: ctx.config.twilio?.authToken, publicBaseUrl: ctx.config.env.PUBLIC_BASE_URL, logger: ctx.logger, metrics: ctx.metrics }),
    async (req, res) => {
      const { fields: params } = storableFields(req.body);
      const outboxId = outboxRowId.safeParse(req.query.outboxId).data;
      const status = params.MessageStatus ?? params.SmsStatus;
      const known = status !== undefined && messageStatuses.has(status) && providerSid.safeParse(params.MessageSid ?? params.SmsSid).success;
      if (outboxId === undefined || !known) {
        // Signed, but not a callback for a row of ours (outboxId=%00, an unknown status): no
        // retry would fix it, so acknowledge it and say so.
        ctx.metrics.webhooks.inc({ provider: 'twilio_status', outcome: 'ignored' });
        ctx.logger.warn({ outboxId: outboxId ?? '(invalid)', known }, 'message status callback ignored: not for an outbox row, or an unknown status');
      } else {
        const messageSid = (params.MessageSid ?? params.SmsSid)!;
        // Linked to the send that delivered the row (stored with it), so the message's
        // trace reaches its delivery receipt.
        const sent = await ctx.db.prisma.outboundMessage.findUnique({ where: { id: outboxId }, select: { traceparent: true } }).catch(() => null);
        const spanOptions = {
          kind: SpanKind.SERVER,
          linkTo: sent?.traceparent ?? null,
          attributes: { 'app.outbox.id': outboxId, 'messaging.message.id': messageSid, 'app.sms.status': status },
        };
        const out = await inMessageSpan('twilio.message_status', spanOptions, () =>
          ctx.dedup.twilio(
            { headers: req.headers, params },
            async () => {
              // Forward-only, once per (MessageSid, MessageStatus), error code applied (opt-out,
              // suppression, sender halt): see domain/deliverability.
              const applied = await ctx.deliverability.onStatus({ outboxId, messageSid, status, errorCode: params.ErrorCode, source: 'callback' });
              if (applied.duplicate) ctx.metrics.duplicates.inc({ provider: 'twilio_status' });
              if (applied.unknownMessage)
                ctx.logger.warn({ outboxId, messageSid }, 'message status callback for no outbox row of ours (or a replaced send); recorded, not applied');
              return emptyTwiml;
            },
            { kind: 'message-status' },
          ),
        );
        res.status(out.status).set(out.headers).send(out.body);
        return;
      }
      res.type('text/xml').send(emptyTwiml);
    },
  );
  return router;
}
