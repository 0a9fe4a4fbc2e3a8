import { Router, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { activatePayment } from '../domain/onboarding.js';
import { resolveActions, resolveStuckClient, stuckAlertTypes } from '../domain/stuck-resolution.js';
import { sendProblem } from '../http/problem.js';
import { parseOr400, sendNotFound } from '../http/validate.js';
import { clientView } from './views.js';

const clientId = z.object({ id: z.uuid({ message: 'must be a client id (UUID)' }) });
const resolveBody = z
  .object({
    action: z.enum(resolveActions, { message: `must be one of ${resolveActions.join(', ')}` }),
    note: z.string().max(500).optional(),
  })
  .strict();

/** Resolves the client's open stuck-client alerts (never throws; `not_active` when none). */
async function resolveAlerts(ctx: AppContext, clientId: string, message: string) {
  const results = await Promise.all(stuckAlertTypes.map((type) => ctx.alerts.resolveAlert({ type, resourceId: clientId, message })));
  return results.filter((r) => r.status === 'resolved').map((r) => r.type);
}

function conflict(res: Response, detail: string): void {
  sendProblem(res, { title: 'Conflict', status: 409, detail });
}

/**
 * Admin actions on a client:
 *
 * - POST /api/admin/clients/:id/resolve `{ action, note? }`: resolves a stuck client with
 *   one of `activate_payment`, `complete_test_call`, `allocate_number`, `acknowledge` (see
 *   domain/stuck-resolution.ts for what each does and where it applies; 409 elsewhere),
 *   then resolves its open PAYMENT_BLOCK / STUCK_CLIENT alerts.
 * - POST /api/admin/clients/:id/activate-payment: the admin alternative to Stripe's
 *   checkout; a client waiting in S5 moves to the test call (and its PAYMENT_BLOCK
 *   alert is resolved). Idempotent.
 */
export function clientRoutes(ctx: AppContext): Router {
  const router = Router();
  router.post('/clients/:id/resolve', async (req, res) => {
    const params = parseOr400(res, clientId, req.params, 'path');
    if (params === undefined) return;
    const body = parseOr400(res, resolveBody, req.body ?? {}, 'body');
    if (body === undefined) return;
    const outcome = await resolveStuckClient(ctx.db.prisma, params.id, body.action, ctx.config.systemNumber);
    if (outcome.kind === 'not_found') return sendNotFound(res, 'client', params.id);
    if (outcome.kind === 'conflict') return conflict(res, outcome.reason);
    const alertsResolved = await resolveAlerts(ctx, params.id, `Resolved by an operator (${body.action})${body.note === undefined ? '' : `: ${body.note}`}.`);
    ctx.logger.info({ clientId: params.id, action: body.action, from: outcome.from, to: outcome.client.onboardingState }, 'stuck client resolved by an operator');
    res.json({ action: body.action, from: outcome.from, client: clientView(outcome.client), alertsResolved });
  });

  router.post('/clients/:id/activate-payment', async (req, res) => {
    const params = parseOr400(res, clientId, req.params, 'path');
    if (params === undefined) return;
    const before = await ctx.db.prisma.client.findUnique({ where: { id: params.id }, select: { onboardingState: true, paymentActive: true } });
    if (before === null) return sendNotFound(res, 'client', params.id);
    const client = await ctx.db.prisma.$transaction((tx) => activatePayment(tx, params.id, ctx.config.systemNumber));
    if (client === undefined) return sendNotFound(res, 'client', params.id);
    const alertsResolved = before.onboardingState !== client.onboardingState ? await resolveAlerts(ctx, params.id, 'Payment activated by an operator.') : [];
    ctx.logger.info({ clientId: params.id, from: before.onboardingState, to: client.onboardingState, alreadyActive: before.paymentActive }, 'payment activated by an operator');
    res.json({ alreadyActive: before.paymentActive, from: before.onboardingState, client: clientView(client), alertsResolved });
  });
  return router;
}
