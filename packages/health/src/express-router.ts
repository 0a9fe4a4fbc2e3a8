import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHealthHandler, parseBody, type HealthHandler, type HealthHandlerOptions } from './health-handler.js';
import type { HealthMonitor } from './health-monitor.js';
import type { RecoveryManager } from './recovery-manager.js';

/** Largest recovery request body read (it holds one service name). */
const maxBodyBytes = 16 * 1024;

/**
 * The health endpoints as a Node/Express middleware: `app.use(router)` in Express 5, or
 * `http.createServer(router)` on its own (other paths get a 404 then). It is a plain
 * `(req, res, next)` function, so the package never loads Express itself.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createHealthRouter } from '@hardening/health';
 * const app = express();
 * const health = createHealthRouter({ serviceId: 'sms-gateway' });
 * app.use(health);
 * health.monitor.markStarted();
 * ```
 */
export interface HealthRouter {
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  /** The monitor behind the endpoints (pass it to graceful shutdown). */
  readonly monitor: HealthMonitor;
  /** The recovery actions, when mounted. */
  readonly recovery: RecoveryManager | undefined;
  /** The framework-neutral handler. */
  readonly handler: HealthHandler;
}

/**
 * Builds the health endpoints for Express 5 (or plain `node:http`): `GET /health/live`,
 * `/health/ready`, `/health/startup`, `/health`, and with `recovery`
 * `POST /health/recover` and `GET /health/recovery-stats`. See `createHealthHandler` for
 * what each answers.
 *
 * Works with or without `express.json()` in front of it: a parsed `req.body` is used, else
 * the body is read (at most 16 KiB, only after the token is checked).
 *
 * @param options - See {@link HealthHandlerOptions}.
 * @returns The middleware, with its `monitor`.
 * @throws TypeError when options are invalid, e.g. `recovery` without a token.
 * @example
 * ```ts
 * import express from 'express';
 * import { Pool } from 'pg';
 * import { createHealthRouter, postgresCheck, circuitBreakerCheck } from '@hardening/health';
 *
 * const pool = new Pool({ connectionString: process.env.DATABASE_URL });
 * const app = express();
 * app.use(
 *   createHealthRouter({
 *     serviceId: 'sms-gateway',
 *     releaseId: process.env.GIT_SHA,
 *     adminToken: process.env.HEALTH_ADMIN_TOKEN,
 *     checks: [postgresCheck({ client: pool }), circuitBreakerCheck({ criticalBreakers: ['twilio_sms'] })],
 *   }),
 * );
 * app.listen(3000);
 * ```
 */
export function createHealthRouter(options: HealthHandlerOptions = {}): HealthRouter {
  const handler = createHealthHandler(options);
  const basePath = options.basePath ?? '/health';
  const router = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void => {
    const url = req.url ?? '/';
    // Mounted app-wide, the router sees every request: pass the others on at once, before
    // building a request object and a promise for a path that cannot be ours.
    if (next !== undefined && basePath !== '' && !url.startsWith(basePath)) {
      next();
      return;
    }
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const parsed = (req as { body?: unknown }).body;
    handler
      .handle({
        method: req.method ?? 'GET',
        path,
        query: q === -1 ? undefined : new URLSearchParams(url.slice(q + 1)),
        authorization: req.headers.authorization,
        clientIp: (req as { ip?: string }).ip ?? req.socket.remoteAddress,
        body: parsed,
        readBody: () => readBody(req),
      })
      .then(
        (answer) => {
          if (answer === undefined) {
            if (next !== undefined) next();
            else if (!res.headersSent) {
              res.statusCode = 404;
              res.setHeader('content-type', 'text/plain; charset=utf-8');
              res.end('Not Found');
            }
            return;
          }
          res.statusCode = answer.status;
          for (const name in answer.headers) res.setHeader(name, answer.headers[name]!);
          res.end(answer.body === '' ? undefined : answer.body);
        },
        (error: unknown) => {
          if (next !== undefined) next(error);
          else {
            res.statusCode = 500;
            res.end();
          }
        },
      );
  };
  return Object.assign(router, { monitor: handler.monitor, recovery: handler.recovery, handler });
}

function readBody(req: IncomingMessage): Promise<unknown> {
  // A body parser may already have drained the stream without setting req.body.
  if (req.readableEnded) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(new Error(`the body is larger than ${maxBodyBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => {
      try {
        resolve(parseBody(Buffer.concat(chunks).toString('utf8'), req.headers['content-type'] ?? ''));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    req.once('error', reject);
  });
}
