import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { sendProblem } from './problem.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Requires `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time (over
 * digests, so the lengths leak nothing either). 401 otherwise, as problem+json.
 */
export function requireAdmin(adminToken: string): RequestHandler {
  const expected = digest(adminToken);
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (match === null || !timingSafeEqual(digest(match[1]!.trim()), expected)) {
      res.set('WWW-Authenticate', 'Bearer realm="admin"');
      sendProblem(res, { title: 'Unauthorized', status: 401, detail: 'A valid admin bearer token is required.' });
      return;
    }
    next();
  };
}
