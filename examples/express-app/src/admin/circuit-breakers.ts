import { Router } from 'express';
import type { AppContext } from '../app-context.js';
import { sendCachedJson } from '../http/cached-json.js';

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** GET /api/admin/circuit-breakers: every provider breaker's state and counts. */
export function circuitBreakerRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/circuit-breakers', (req, res) => {
    const breakers = ctx.breakers.snapshot().map((b) => ({
      ...b,
      openedAt: iso(b.openedAt),
      nextAttemptAt: iso(b.nextAttemptAt),
      stateChangedAt: iso(b.stateChangedAt),
    }));
    sendCachedJson(req, res, { count: breakers.length, open: breakers.filter((b) => b.state !== 'closed').map((b) => b.name), breakers });
  });
  return router;
}
