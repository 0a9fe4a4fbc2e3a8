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
 * Express middleware for Twilio's status callbacks to alert SMS: a thin adapter over
 * {@link createTwilioStatusCallbackHandler}. Works with or without `express.urlencoded()`.
 *
 * @param options - See {@link TwilioStatusCallbackOptions}.
 * @returns An Express handler.
 * @throws TypeError when `alerts` or `authToken` is missing.
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
export function expressTwilioStatusCallback(options: TwilioStatusCallbackOptions): (req: ExpressLikeRequest, res: ExpressLikeResponse, next: (error?: unknown) => void) => void {
  const handle = createTwilioStatusCallbackHandler(options);
  return (req, res, next) => {
    void (async () => {
      let body: StatusCallbackRequest['body'];
      if (req.body !== undefined && typeof req.body === 'object' && req.body !== null && !Buffer.isBuffer(req.body)) {
        body = req.body as Record<string, unknown>;
      } else if (typeof req.body === 'string' || Buffer.isBuffer(req.body)) {
        body = req.body.toString();
      } else {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
        body = Buffer.concat(chunks).toString('utf8');
      }
      const response = await handle({ method: req.method, url: req.originalUrl ?? req.url, headers: req.headers, body });
      res.status(response.status).set(response.headers).send(response.body);
    })().catch(next);
  };
}
