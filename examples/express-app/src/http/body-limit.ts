import type { RequestHandler } from 'express';
import { sendProblem } from './problem.js';

/**
 * The largest body any route of the app takes (Slack's and Stripe's raw bodies, 1 MB); each
 * route's own parser has its smaller limit too (Twilio forms 64 KB, admin JSON 100 KB).
 */
export const maxBodyBytes = 1024 * 1024;

/**
 * First middleware of the app: a request that declares a body over `limit` bytes gets 413
 * problem+json (and `Connection: close`) before any route, parser or signature check reads
 * a byte of it. Chunked bodies, which declare no length, are bounded by each route's parser
 * (or `expressTwilioStatusCallback`'s `maxBodyBytes`).
 *
 * @example
 * ```ts
 * app.use(declaredBodyLimit());
 * ```
 */
export function declaredBodyLimit(limit = maxBodyBytes): RequestHandler {
  return (req, res, next) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      res.set('Connection', 'close');
      sendProblem(res, { title: 'Payload too large', status: 413, detail: `Request bodies are at most ${limit} bytes.` });
      return;
    }
    next();
  };
}
