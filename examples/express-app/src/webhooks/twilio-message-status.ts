import { Router } from 'express';
import type { AppContext } from '../app-context.js';
import { verifyTwilioSignature } from './twilio-signature.js';
import { emptyTwiml } from './twiml.js';

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
      const params = (req.body ?? {}) as Record<string, string>;
      const outboxId = typeof req.query.outboxId === 'string' ? req.query.outboxId : undefined;
      const status = params.MessageStatus ?? params.SmsStatus;
      if (outboxId !== undefined && status !== undefined) {
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
