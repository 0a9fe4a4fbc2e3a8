import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { parseOr400, sendNotFound } from '../http/validate.js';
import { replaySlackSignal } from '../jobs/redrive.js';

const signalId = z.object({ signalId: z.uuid({ message: 'must be a signal id (UUID)' }) });

/**
 * POST /automations/replay/:signalId (admin token): replays a stored Slack signal's
 * evaluation (e.g. one that timed out): status back to `stored`, `evaluate_slack_signal`
 * queued under a new delivery id. 202 with `{ signalId, deliveryId, previousStatus }`.
 */
export function replayRoutes(ctx: AppContext): Router {
  const router = Router();
  router.post('/replay/:signalId', async (req, res) => {
    const params = parseOr400(res, signalId, req.params, 'path');
    if (params === undefined) return;
    const outcome = await replaySlackSignal(ctx, params.signalId);
    if (outcome.kind === 'not_found') return sendNotFound(res, 'Slack signal', params.signalId);
    res.status(202).json({ signalId: params.signalId, deliveryId: outcome.deliveryId, previousStatus: outcome.previousStatus });
  });
  return router;
}
