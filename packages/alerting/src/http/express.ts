import type { StatusCallbackRequest, TwilioStatusCallbackOptions } from './twilio-status-callback.js';
import { createTwilioStatusCallbackHandler } from './twilio-status-callback.js';

/**
 * The slice of an Express (4 or 5) request the adapter reads.
 *
 * @example
 * ```ts
 * app.post('/webhooks/twilio/alert-status', expressTwilioStatusCallback({ alerts, authToken, publicUrl }));
 * ```
 */
export interface ExpressLikeRequest extends AsyncIterable<unknown> {
  readonly method: string;
  readonly originalUrl?: string;
  readonly url: string;
  readonly headers: StatusCallbackRequest['headers'];
  /** Set by `express.urlencoded()`; when absent the raw body is read from the stream. */
  readonly body?: unknown;
}

/**
 * The slice of an Express response the adapter writes.
 *
 * @example
 * ```ts
 * app.post('/webhooks/twilio/alert-status', expressTwilioStatusCallback({ alerts, authToken, publicUrl }));
 * ```
 */
export interface ExpressLikeResponse {
  status(code: number): this;
  set(headers: Record<string, string>): this;
  send(body: string): unknown;
}

/**
 * Options for {@link expressTwilioStatusCallback}: the handler's, plus the body limit.
 *
 * @example
 * ```ts
 * app.post('/webhooks/twilio/alert-status', expressTwilioStatusCallback({ alerts, authToken, publicUrl, maxBodyBytes: 16 * 1024 }));
 * ```
 */
export interface ExpressTwilioStatusCallbackOptions extends TwilioStatusCallbackOptions {
  /**
   * Largest body read from the stream when no body parser ran (a Twilio status callback is
   * well under 2 KB). A larger declared `Content-Length` is refused before a byte is read;
   * a chunked body is read until it passes the limit. Either way: 413 problem+json and
   * `Connection: close`, the rest of the body is never buffered.
   * @default 65_536 (64 KiB)
   */
  readonly maxBodyBytes?: number;
}

const defaults = { maxBodyBytes: 64 * 1024 };

const tooLarge = (maxBodyBytes: number) => ({
  status: 413,
  headers: { 'content-type': 'application/problem+json', connection: 'close' },
  body: JSON.stringify({ type: 'about:blank', title: 'Payload Too Large', status: 413, detail: `A status callback body is at most ${maxBodyBytes} bytes.` }),
});

/**
 * Reads at most `limit` bytes of the body; undefined when it is longer. Pulls chunks by
 * hand rather than `for await ... break`: breaking destroys the request, and with it the
 * socket the 413 must be written to.
 */
async function readLimited(req: ExpressLikeRequest, limit: number): Promise<string | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return undefined;
  const iterator = req[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) break;
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(String(next.value));
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Express middleware for Twilio's status callbacks to alert SMS: a thin adapter over
 * {@link createTwilioStatusCallbackHandler}. Works with or without `express.urlencoded()`;
 * without it the body is read from the stream up to `maxBodyBytes` (413 above), so an
 * unauthenticated client cannot make it buffer more before the signature is checked.
 *
 * @param options - See {@link ExpressTwilioStatusCallbackOptions}.
 * @returns An Express handler.
 * @throws TypeError when `alerts` or `authToken` is missing, or `maxBodyBytes` is not a positive integer.
 * @example
 * ```ts
 * import express from 'express';
 * import { expressTwilioStatusCallback } from '@hardening/alerting';
 * const app = express();
 * app.post('/webhooks/twilio/alert-status', expressTwilioStatusCallback({
 *   alerts,
 *   authToken: process.env.TWILIO_AUTH_TOKEN!,
 *   publicUrl: 'https://app.example.com/webhooks/twilio/alert-status',
 * }));
 * ```
 */
export function expressTwilioStatusCallback(
  options: ExpressTwilioStatusCallbackOptions,
): (req: ExpressLikeRequest, res: ExpressLikeResponse, next: (error?: unknown) => void) => void {
  const handle = createTwilioStatusCallbackHandler(options);
  const { maxBodyBytes = defaults.maxBodyBytes } = options;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0)
    throw new TypeError(`Expected \`maxBodyBytes\` to be a positive integer, got ${String(maxBodyBytes)}.`);
  return (req, res, next) => {
    void (async () => {
      let body: StatusCallbackRequest['body'];
      if (req.body !== undefined && typeof req.body === 'object' && req.body !== null && !Buffer.isBuffer(req.body)) {
        body = req.body as Record<string, unknown>;
      } else if (typeof req.body === 'string' || Buffer.isBuffer(req.body)) {
        body = req.body.toString();
      } else {
        body = await readLimited(req, maxBodyBytes);
        if (body === undefined) {
          const response = tooLarge(maxBodyBytes);
          res.status(response.status).set(response.headers).send(response.body);
          return;
        }
      }
      const response = await handle({ method: req.method, url: req.originalUrl ?? req.url, headers: req.headers, body });
      res.status(response.status).set(response.headers).send(response.body);
    })().catch(next);
  };
}
