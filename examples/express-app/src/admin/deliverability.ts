import { Router } from 'express';
import { z } from 'zod';
import { maskPhoneNumber } from '@hardening/core';
import type { AppContext } from '../app-context.js';
import { sendCachedJson } from '../http/cached-json.js';
import { parseOr400, sendNotFound } from '../http/validate.js';
import { afterCursor, newestFirst, pageOf, pageQuery } from './pagination.js';
import { outboxView } from './views.js';

const byId = z.object({ id: z.uuid({ message: 'must be a suppression id (UUID)' }) });
const bySender = z.object({ phone: z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be a sender number in E.164 (+15551234567)') });
const unconfirmedQuery = pageQuery.extend({
  olderThanMinutes: z.coerce
    .number()
    .int()
    .min(0)
    .max(60 * 24 * 30)
    .default(30),
});

/**
 * The deliverability admin API (issue 14). Recipients' numbers are masked; our senders'
 * numbers are not (they are ours, and the resume action takes one).
 *
 * - GET /suppressions: recipients a sender will not text (terminal Twilio code), with the
 *   reason and how many sends were refused; DELETE /suppressions/:id clears one (204).
 * - GET /opt-outs: opted-out (sender, recipient) pairs; GET /opt-outs/events: the audit
 *   trail, newest first. No clear action: only the recipient opts back in (START).
 * - GET /senders/halted: senders the campaign breaker halted; POST
 *   /senders/:phone/resume resumes one (its queued SMS are due at once), 404 when not halted.
 * - GET /deliveries/unconfirmed?olderThanMinutes=30: messages with no final delivery status
 *   that long after sending (receipt missing) or an unknown send outcome.
 */
export function deliverabilityRoutes(ctx: AppContext): Router {
  const router = Router();
  const prisma = ctx.db.prisma;

  router.get('/suppressions', async (req, res) => {
    const q = parseOr400(res, pageQuery, req.query, 'query');
    if (q === undefined) return;
    const rows = await prisma.smsSuppression.findMany({ where: afterCursor(q.cursor), orderBy: newestFirst, take: q.limit + 1 });
    const page = pageOf(rows, q.limit);
    sendCachedJson(req, res, {
      items: page.items.map((r) => ({
        id: r.id,
        sender: r.fromPhone,
        recipient: maskPhoneNumber(r.toPhone),
        errorCode: r.errorCode,
        reason: r.reason,
        refusedSends: r.refused,
        createdAt: r.createdAt.toISOString(),
      })),
      nextCursor: page.nextCursor,
    });
  });

  router.delete('/suppressions/:id', async (req, res) => {
    const params = parseOr400(res, byId, req.params, 'path');
    if (params === undefined) return;
    const { count } = await prisma.smsSuppression.deleteMany({ where: { id: params.id } });
    if (count === 0) return sendNotFound(res, 'suppression', params.id);
    ctx.logger.info({ suppressionId: params.id, by: 'operator' }, 'recipient suppression cleared by an operator');
    res.status(204).end();
  });

  router.get('/opt-outs', async (req, res) => {
    const q = parseOr400(res, pageQuery.omit({ cursor: true }), req.query, 'query');
    if (q === undefined) return;
    const rows = await prisma.smsOptOut.findMany({ where: { optedOut: true }, orderBy: [{ updatedAt: 'desc' }], take: q.limit });
    sendCachedJson(req, res, { items: rows.map((r) => ({ sender: r.fromPhone, recipient: maskPhoneNumber(r.toPhone), since: r.updatedAt.toISOString() })) });
  });

  router.get('/opt-outs/events', async (req, res) => {
    const q = parseOr400(res, pageQuery, req.query, 'query');
    if (q === undefined) return;
    const rows = await prisma.smsOptOutEvent.findMany({ where: afterCursor(q.cursor), orderBy: newestFirst, take: q.limit + 1 });
    const page = pageOf(rows, q.limit);
    sendCachedJson(req, res, {
      items: page.items.map((r) => ({
        id: r.id,
        sender: r.fromPhone,
        recipient: maskPhoneNumber(r.toPhone),
        action: r.action,
        source: r.source,
        at: r.createdAt.toISOString(),
      })),
      nextCursor: page.nextCursor,
    });
  });

  router.get('/senders/halted', async (req, res) => {
    const rows = await prisma.smsSenderHalt.findMany({ where: { active: true }, orderBy: { haltedAt: 'desc' } });
    const waiting = await prisma.outboundMessage.groupBy({
      by: ['fromPhone'],
      where: { fromPhone: { in: rows.map((r) => r.fromPhone) }, status: { in: ['pending', 'failed', 'unknown'] } },
      _count: true,
    });
    const count = new Map(waiting.map((w) => [w.fromPhone, w._count]));
    sendCachedJson(req, res, {
      items: rows.map((r) => ({
        sender: r.fromPhone,
        errorCode: r.errorCode,
        reason: r.reason,
        haltedAt: r.haltedAt.toISOString(),
        nextProbeAt: r.nextProbeAt.toISOString(),
        queued: count.get(r.fromPhone) ?? 0,
      })),
    });
  });

  router.post('/senders/:phone/resume', async (req, res) => {
    const params = parseOr400(res, bySender, req.params, 'path');
    if (params === undefined) return;
    const resumed = await ctx.deliverability.resume(params.phone, 'operator');
    if (!resumed) return sendNotFound(res, 'halted sender', params.phone);
    res.json({ resumed: true, sender: params.phone });
  });

  router.get('/deliveries/unconfirmed', async (req, res) => {
    const q = parseOr400(res, unconfirmedQuery, req.query, 'query');
    if (q === undefined) return;
    const before = new Date(Date.now() - q.olderThanMinutes * 60_000);
    const rows = await prisma.outboundMessage.findMany({
      where: {
        OR: [
          { status: 'unknown' },
          {
            status: 'sent',
            sentAt: { lt: before },
            OR: [{ deliveryStatus: null }, { deliveryStatus: { in: ['accepted', 'scheduled', 'queued', 'sending', 'sent'] } }],
          },
        ],
        ...afterCursor(q.cursor),
      },
      orderBy: newestFirst,
      take: q.limit + 1,
    });
    const page = pageOf(rows, q.limit);
    sendCachedJson(req, res, {
      items: page.items.map((r) => ({ ...outboxView(r), deliveryStatus: r.deliveryStatus, errorCode: r.errorCode })),
      nextCursor: page.nextCursor,
    });
  });
  return router;
}
