import { Router, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { activatePayment } from '../domain/onboarding.js';
import { resolveActions, resolveStuckClient, stuckAlertTypes, type ResolveAction, type ResolveOutcome } from '../domain/stuck-resolution.js';
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

/** What {@link resolveClientByOperator} did: the domain's outcome, plus the alerts it resolved. */
export type OperatorResolveOutcome =
  Exclude<ResolveOutcome, { kind: 'resolved' }> | (Extract<ResolveOutcome, { kind: 'resolved' }> & { readonly alertsResolved: string[] });

/**
 * An operator resolves a stuck client (admin API and console alike): the domain change,
 * then its open PAYMENT_BLOCK / STUCK_CLIENT alerts resolved, and a log line.
 *
 * @example
 * ```ts
 * const outcome = await resolveClientByOperator(ctx, clientId, 'acknowledge', 'called the owner');
 * if (outcome.kind === 'resolved') console.log(outcome.alertsResolved);
 * ```
 */
export async function resolveClientByOperator(ctx: AppContext, clientId: string, action: ResolveAction, note?: string): Promise<OperatorResolveOutcome> {
  const outcome = await resolveStuckClient(ctx.db.prisma, clientId, action, ctx.config.systemNumber);
  if (outcome.kind !== 'resolved') return outcome;
  const alertsResolved = await resolveAlerts(ctx, clientId, `Resolved by an operator (${action})${note === undefined ? '' : `: ${note}`}.`);
  ctx.logger.info({ clientId, action, from: outcome.from, to: outcome.client.onboardingState }, 'stuck client resolved by an operator');
  return { ...outcome, alertsResolved };
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
    const outcome = await resolveClientByOperator(ctx, params.id, body.action, body.note);
    if (outcome.kind === 'not_found') return sendNotFound(res, 'client', params.id);
    if (outcome.kind === 'conflict') return conflict(res, outcome.reason);
    res.json({ action: body.action, from: outcome.from, client: clientView(outcome.client), alertsResolved: outcome.alertsResolved });
  });

  router.post('/clients/:id/activate-payment', async (req, res) => {
    const params = parseOr400(res, clientId, req.params, 'path');
    if (params === undefined) return;
    const before = await ctx.db.prisma.client.findUnique({ where: { id: params.id }, select: { onboardingState: true, paymentActive: true } });
    if (before === null) return sendNotFound(res, 'client', params.id);
    const client = await ctx.db.prisma.$transaction((tx) => activatePayment(tx, params.id, ctx.config.systemNumber));
    if (client === undefined) return sendNotFound(res, 'client', params.id);
    const alertsResolved = before.onboardingState !== client.onboardingState ? await resolveAlerts(ctx, params.id, 'Payment activated by an operator.') : [];
    ctx.logger.info(
      { clientId: params.id, from: before.onboardingState, to: client.onboardingState, alreadyActive: before.paymentActive },
      'payment activated by an operator',
    );
    res.json({ alreadyActive: before.paymentActive, from: before.onboardingState, client: clientView(client), alertsResolved });
  });
  return router;
}
