import { Router } from 'express';
import { z } from 'zod';
import { scrubText } from '@hardening/core';
import type { AppContext } from '../app-context.js';
import { sendCachedJson } from '../http/cached-json.js';
import { sendProblem } from '../http/problem.js';
import { parseOr400, sendNotFound } from '../http/validate.js';
import { redriveDelivery, redrivableStatuses } from '../jobs/redrive.js';
import { afterCursor, newestFirst, pageOf, pageQuery } from './pagination.js';
import { deliveryView } from './views.js';

/** Statuses of the delivery log. */
export const deliveryStatuses = ['pending', 'processing', 'completed', 'failed', 'dead_letter'] as const;

const listQuery = pageQuery.extend({
  status: z.enum(deliveryStatuses).optional(),
  provider: z
    .string()
    .regex(/^[a-z_]{1,40}$/, 'must be a provider name like twilio or slack')
    .optional(),
  kind: z
    .string()
    .regex(/^[a-z_]{1,60}$/, 'must be a job kind like process_inbound')
    .optional(),
});
const deliveryId = z.object({ id: z.uuid({ message: 'must be a delivery id (UUID)' }) });

/**
 * The webhook delivery log:
 *
 * - GET /api/admin/deliveries?status=dead_letter&provider=&kind=&limit=50&cursor=: newest
 *   first, one page (`nextCursor` for the next).
 * - POST /api/admin/deliveries/:id/redrive: a dead-lettered or failing delivery goes back to
 *   pending and is queued again (202); 409 for completed, pending or processing ones.
 */
export function deliveryRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/deliveries', async (req, res) => {
    const q = parseOr400(res, listQuery, req.query, 'query');
    if (q === undefined) return;
    const rows = await ctx.db.prisma.webhookDelivery.findMany({
      where: {
        ...(q.status === undefined ? {} : { status: q.status }),
        ...(q.provider === undefined ? {} : { provider: q.provider }),
        ...(q.kind === undefined ? {} : { kind: q.kind }),
        ...afterCursor(q.cursor),
      },
      orderBy: newestFirst,
      take: q.limit + 1,
    });
    const page = pageOf(rows, q.limit);
    sendCachedJson(req, res, { items: page.items.map(deliveryView), nextCursor: page.nextCursor });
  });

  router.post('/deliveries/:id/redrive', async (req, res) => {
    const params = parseOr400(res, deliveryId, req.params, 'path');
    if (params === undefined) return;
    const outcome = await redriveDelivery(ctx, params.id);
    switch (outcome.kind) {
      case 'not_found':
        return sendNotFound(res, 'delivery', params.id);
      case 'conflict':
        return sendProblem(res, {
          title: 'Conflict',
          status: 409,
          detail: `The delivery is ${outcome.status}; only ${redrivableStatuses.join(' or ')} deliveries can be re-driven.`,
        });
      case 'not_queued':
        return sendProblem(res, {
          title: 'Queue unavailable',
          status: 503,
          detail: `The delivery is pending again but could not be queued now (${scrubText(String(outcome.error)).slice(0, 200)}); pending deliveries are queued again by the sweep.`,
        });
      case 'queued':
        res.status(202).json({ queued: true, delivery: deliveryView(outcome.delivery) });
    }
  });
  return router;
}
