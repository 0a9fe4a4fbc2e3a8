import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { sendCachedJson } from '../http/cached-json.js';
import { parseOr400 } from '../http/validate.js';
import { afterCursor, newestFirst, pageOf, pageQuery } from './pagination.js';
import { outboxView } from './views.js';

/** Statuses of an outbound SMS (see jobs/outbox-worker.ts). */
export const outboxStatuses = [
  'pending',
  'sending',
  'sent',
  'unknown',
  'failed',
  'dead_letter',
  'not_sent',
  'delivered',
  'undelivered',
  'suppressed',
  'opted_out',
] as const;

const listQuery = pageQuery.extend({
  status: z.enum(outboxStatuses).optional(),
  purpose: z
    .string()
    .regex(/^[a-z_]{1,40}$/, 'must be a purpose like reply or missed_call')
    .optional(),
});

/**
 * GET /api/admin/outbox?status=&purpose=&limit=50&cursor=: outbound SMS newest first, phone
 * numbers masked (in the body too).
 */
export function outboxRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/outbox', async (req, res) => {
    const q = parseOr400(res, listQuery, req.query, 'query');
    if (q === undefined) return;
    const rows = await ctx.db.prisma.outboundMessage.findMany({
      where: {
        ...(q.status === undefined ? {} : { status: q.status }),
        ...(q.purpose === undefined ? {} : { purpose: q.purpose }),
        ...afterCursor(q.cursor),
      },
      orderBy: newestFirst,
      take: q.limit + 1,
    });
    const page = pageOf(rows, q.limit);
    sendCachedJson(req, res, { items: page.items.map(outboxView), nextCursor: page.nextCursor });
  });
  return router;
}
