import { Router } from 'express';
import type { AppContext } from '../app-context.js';
import { alertRoutes } from './alerts.js';
import { circuitBreakerRoutes } from './circuit-breakers.js';
import { clientRoutes } from './clients.js';
import { deliveryRoutes } from './deliveries.js';
import { deliverabilityRoutes } from './deliverability.js';
import { numberRoutes } from './numbers.js';
import { outboxRoutes } from './outbox.js';
import { stuckClientRoutes } from './stuck-clients.js';

/**
 * The admin API, mounted under /api/admin behind the admin guard (rate limit + bearer
 * token, see http/security.ts) and the JSON body limit. Reads answer with ETag and
 * Cache-Control (304 on If-None-Match); bad input is a 400 problem naming the field;
 * unknown ids are 404.
 */
export function adminRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(stuckClientRoutes(ctx));
  router.use(alertRoutes(ctx));
  router.use(circuitBreakerRoutes(ctx));
  router.use(clientRoutes(ctx));
  router.use(numberRoutes(ctx));
  router.use(deliverabilityRoutes(ctx));
  router.use(deliveryRoutes(ctx));
  router.use(outboxRoutes(ctx));
  return router;
}
