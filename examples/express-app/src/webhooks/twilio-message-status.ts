import { Router } from 'express';
import type { AppContext } from '../app-context.js';
import { outboxRowId, providerSid, storableFields } from '../ingest/input-text.js';
import { verifyTwilioSignature } from './twilio-signature.js';
import { emptyTwiml } from './twiml.js';

/** Every MessageStatus Twilio documents. */
const messageStatuses = new Set(['accepted', 'scheduled', 'canceled', 'queued', 'sending', 'sent', 'failed', 'delivered', 'undelivered', 'receiving', 'received', 'read', 'partially_delivered']);

/**
 * POST /api/twilio/message-status?outboxId=...: delivery updates for SMS the outbox sent.
 * A failed or undelivered customer message is recorded on its outbox row and raised as a
 * LOW alert (carrier filtering, a landline): it is visible, and not retried blindly.
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
        const out = await ctx.dedup.twilio({ headers: req.headers, params }, async () => {
          if (status === 'failed' || status === 'undelivered') {
            await ctx.db.prisma.outboundMessage.updateMany({
              where: { id: outboxId },
              data: { status: 'undelivered', lastError: `Twilio ${status}${params.ErrorCode ? ` (error ${params.ErrorCode})` : ''}` },
            });
            ctx.alert({ type: 'SMS_UNDELIVERED', severity: 'LOW', resourceId: outboxId, title: 'An SMS was not delivered', message: `Twilio reported ${status} for outbox message ${outboxId}.` });
          } else if (status === 'delivered') {
            await ctx.db.prisma.outboundMessage.updateMany({ where: { id: outboxId, status: 'sent' }, data: { status: 'delivered' } });
          }
          return emptyTwiml;
        }, { kind: 'message-status' });
        res.status(out.status).set(out.headers).send(out.body);
        return;
      }
      res.type('text/xml').send(emptyTwiml);
    },
  );
  return router;
}
