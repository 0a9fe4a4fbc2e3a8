import type { Request, RequestHandler } from 'express';
import type { Metrics } from '../metrics.js';

// Paths the health router serves (it is not an Express route, so req.route is unset there).
const healthPaths = new Set(['/health', '/health/live', '/health/ready', '/health/startup', '/health/recover', '/health/recovery-stats']);

/**
 * The route a request matched, as a low-cardinality label: the Express route pattern
 * (`/api/admin/deliveries/:id/redrive`), a health path, or `unmatched` (never the raw
 * path, which would carry ids and let scanners create a series per URL).
 */
export function routeLabel(req: Request): string {
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof pattern === 'string') return `${req.baseUrl}${pattern}`;
  if (healthPaths.has(req.path)) return req.path;
  if (req.path === '/metrics') return '/metrics';
  return 'unmatched';
}

/** Times every request into `hardening_app_http_request_duration_seconds{method,route,status}` (prefix: METRICS_PREFIX). */
export function httpDurationMiddleware(metrics: Pick<Metrics, 'httpDuration'>): RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpDuration.startTimer();
    res.once('finish', () => {
      end({ method: req.method, route: routeLabel(req), status: String(res.statusCode) });
    });
    next();
  };
}
