import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { findStuckClients, stuckRules } from '../domain/stuck-clients.js';
import { sendCachedJson } from '../http/cached-json.js';
import { parseOr400 } from '../http/validate.js';

const severity = z.enum(['HIGH', 'MEDIUM', 'LOW']);
const query = z.object({
  /** One severity or a comma-separated list. */
  severity: z
    .string()
    .transform((value) => value.split(',').map((s) => s.trim().toUpperCase()))
    .pipe(z.array(severity).min(1))
    .optional(),
  terminal: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional(),
});

/** The alert a stuck client in `state` raises (PAYMENT_BLOCK in S5, STUCK_CLIENT elsewhere). */
export function alertTypeForState(state: string): string {
  return stuckRules.find((rule) => state in rule.maxDwellMs)?.alertType ?? 'STUCK_CLIENT';
}

/**
 * GET /api/admin/stuck-clients?severity=HIGH[,MEDIUM]&terminal=true|false: clients stuck
 * past their state's threshold now, worst first, with the alert each raises. Dwell times are
 * in whole minutes so the ETag holds between dashboard refreshes.
 */
export function stuckClientRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/stuck-clients', async (req, res) => {
    const q = parseOr400(res, query, req.query, 'query');
    if (q === undefined) return;
    const found = await findStuckClients(ctx.db.prisma);
    const clients = found
      .filter((c) => (q.severity === undefined || q.severity.includes(c.severity)) && (q.terminal === undefined || c.terminal === q.terminal))
      .map((c) => ({
        id: c.id,
        label: c.label,
        state: c.state,
        alertType: alertTypeForState(c.state),
        severity: c.severity,
        terminal: c.terminal,
        enteredAt: new Date(c.enteredAt).toISOString(),
        dwellMinutes: Math.floor(c.dwellMs / 60_000),
        maxDwellMinutes: Math.floor(c.maxDwellMs / 60_000),
      }));
    sendCachedJson(req, res, { count: clients.length, clients });
  });
  return router;
}
