import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { sendCachedJson } from '../http/cached-json.js';
import { sendProblem } from '../http/problem.js';
import { parseOr400, sendNotFound } from '../http/validate.js';

const maxSilenceMs = 7 * 24 * 3_600_000;
const listOf = <T extends z.ZodType>(item: T) =>
  z.union([item, z.array(item).min(1).max(50)]).transform((v) => (Array.isArray(v) ? v : [v]) as Array<z.output<T>>);

const statsQuery = z.object({
  hours: z.coerce
    .number()
    .positive()
    .max(24 * 90)
    .default(24),
});

const silenceBody = z
  .object({
    /** Which alerts: every field given must match; `{}` silences everything. */
    matcher: z
      .object({
        type: listOf(z.string().regex(/^[A-Z0-9_]{1,64}$/, 'must be an alert type like TWILIO_FAILURE')).optional(),
        resourceId: listOf(z.string().min(1).max(200)).optional(),
        severity: listOf(z.enum(['LOW', 'MEDIUM', 'HIGH'])).optional(),
      })
      .strict(),
    /** When it ends (ISO 8601, within 7 days). */
    until: z.iso
      .datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-01-01T12:00:00Z' })
      .transform((v) => new Date(v))
      .refine((d) => d.getTime() > Date.now(), 'must be in the future')
      .refine((d) => d.getTime() - Date.now() <= maxSilenceMs, 'must be at most 7 days ahead'),
    reason: z.string().min(1).max(500).optional(),
  })
  .strict();

const silenceId = z.object({ id: z.uuid({ message: 'must be a silence id (UUID)' }) });

const ackParams = z.object({ id: z.string().regex(/^([0-9a-fA-F-]{36}|[A-Za-z0-9]{5})$/, 'must be an alert id (UUID) or its 5-character ACK code') });
const ackBody = z.object({ by: z.string().trim().min(1).max(100).default('admin') }).strict();

/**
 * Alert statistics and silences:
 *
 * - GET /api/admin/alert-stats?hours=24: counts by outcome, type and severity.
 * - POST /api/admin/alert-silences `{ matcher: { type?, resourceId?, severity? }, until, reason? }`: 201 with the silence.
 * - GET /api/admin/alert-silences: the active ones.
 * - DELETE /api/admin/alert-silences/:id: ends one (204; 404 when unknown or over).
 * - POST /api/admin/alerts/:id/ack `{ by? }`: acknowledges an open alert (id or ACK code):
 *   its escalation stops on every instance. 200 with the acknowledgement (`status`
 *   `acknowledged` or `already_acknowledged`), 404 when no open alert matches, 503 when the
 *   alert store is unavailable.
 */
export function alertRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/alert-stats', async (req, res) => {
    const q = parseOr400(res, statsQuery, req.query, 'query');
    if (q === undefined) return;
    let stats;
    try {
      stats = await ctx.alerts.getAlertStats({ hours: q.hours });
    } catch (error) {
      ctx.logger.warn({ err: String(error) }, 'alert stats unavailable');
      sendProblem(res, { title: 'Alert store unavailable', status: 503, detail: 'The alert history could not be read; try again shortly.' });
      return;
    }
    // `until` is now: leave it out of the ETag's reach by rounding to the minute.
    sendCachedJson(req, res, { ...stats, since: stats.since.slice(0, 16), until: stats.until.slice(0, 16) });
  });

  router.post('/alert-silences', async (req, res) => {
    const body = parseOr400(res, silenceBody, req.body ?? {}, 'body');
    if (body === undefined) return;
    let silence;
    try {
      silence = await ctx.silences.create({ matcher: body.matcher, until: body.until, reason: body.reason });
    } catch (error) {
      // The alert service's own checks (validated above too; a clock edge can still trip them).
      if (!(error instanceof TypeError)) throw error;
      sendProblem(res, { title: 'Bad request', status: 400, detail: error.message });
      return;
    }
    ctx.logger.warn({ silenceId: silence.id, matcher: silence.matcher, until: silence.until }, 'alert silence created by an operator');
    res.status(201).location(`${req.baseUrl}/alert-silences/${silence.id}`).json(silence);
  });

  router.get('/alert-silences', async (req, res) => {
    const silences = await ctx.silences.list();
    sendCachedJson(req, res, { count: silences.length, silences });
  });

  router.delete('/alert-silences/:id', async (req, res) => {
    const params = parseOr400(res, silenceId, req.params, 'path');
    if (params === undefined) return;
    if (!(await ctx.silences.remove(params.id))) {
      sendNotFound(res, 'active alert silence', params.id);
      return;
    }
    ctx.logger.warn({ silenceId: params.id }, 'alert silence ended by an operator');
    res.status(204).end();
  });
  router.post('/alerts/:id/ack', async (req, res) => {
    const params = parseOr400(res, ackParams, req.params, 'path');
    if (params === undefined) return;
    const body = parseOr400(res, ackBody, req.body ?? {}, 'body');
    if (body === undefined) return;
    let outcome;
    try {
      outcome = await ctx.alerts.acknowledge(params.id, { by: body.by, via: 'admin-api' });
    } catch (error) {
      if (error instanceof TypeError) {
        sendProblem(res, { title: 'Bad request', status: 400, detail: error.message });
        return;
      }
      ctx.logger.error({ err: String(error) }, 'alert acknowledgement failed: alert store unavailable');
      sendProblem(res, { title: 'Alert store unavailable', status: 503, detail: 'The acknowledgement could not be stored; try again shortly.' });
      return;
    }
    if (outcome.status === 'not_found') {
      sendNotFound(res, 'open alert', params.id);
      return;
    }
    res.status(200).json({ status: outcome.status, ...outcome.ack });
  });
  return router;
}
