import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';

/**
 * Answers a read with an ETag and `Cache-Control: private, max-age=<seconds>`; a request
 * whose `If-None-Match` matches gets 304 with no body, so dashboards refresh cheaply.
 */
export function sendCachedJson(req: Request, res: Response, body: unknown, maxAgeSeconds = 5): void {
  const json = JSON.stringify(body);
  const etag = `"${createHash('sha1').update(json).digest('base64url')}"`;
  res.set('ETag', etag);
  res.set('Cache-Control', `private, max-age=${maxAgeSeconds}`);
  const inm = req.get('if-none-match');
  if (inm !== undefined && inm.split(',').some((tag) => tag.trim() === etag || tag.trim() === `W/${etag}`)) {
    res.status(304).end();
    return;
  }
  res.type('application/json').send(json);
}
