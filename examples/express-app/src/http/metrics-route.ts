import { Router } from 'express';
import type { Metrics } from '../metrics.js';

/**
 * GET /metrics: the Prometheus exposition of `metrics.registry`. Mount it behind the admin
 * guard (bearer ADMIN_TOKEN): the series name providers, breakers and volumes.
 */
export function metricsRoutes(metrics: Pick<Metrics, 'registry'>): Router {
  const router = Router();
  router.get('/metrics', async (_req, res, next) => {
    try {
      const body = await metrics.registry.metrics();
      res.set('Cache-Control', 'no-store').type(metrics.registry.contentType).send(body);
    } catch (error) {
      next(error);
    }
  });
  return router;
}
