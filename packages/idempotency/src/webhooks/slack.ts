import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookKeyMissingError } from '../errors/webhook-key-missing-error.js';
import { headerValue, type WebhookHeaders } from './webhook-types.js';

/** The Slack Events API envelope fields the helpers read. */
export interface SlackEventEnvelope {
  /** `event_callback` or `url_verification`. */
  readonly type?: string;
  /** The event's id, stable across Slack's retries: the dedup key. */
  readonly event_id?: string;
  /** The value to echo back for `url_verification`. */
  readonly challenge?: string;
}

/** How Slack marked a retried delivery (`X-Slack-Retry-Num`, `X-Slack-Retry-Reason`). */
export interface SlackRetryInfo {
  /** 1 to 3 on a retry, 0 on the first delivery. */
  readonly retryNum: number;
  /** `http_timeout`, `connection_failed`, `http_error`, ... on a retry. */
  readonly retryReason: string | undefined;
}

/**
 * Derives the dedup key of a (verified) Slack Events API delivery: its `event_id`.
 *
 * @param body - The parsed JSON body.
 * @returns The `event_id`.
 * @throws {@link WebhookKeyMissingError} when the body has no `event_id`.
 * @example
 * ```ts
 * import { slackDedupKey } from '@hardening/idempotency';
 * slackDedupKey({ type: 'event_callback', event_id: 'Ev123' }); // 'Ev123'
 * ```
 */
export function slackDedupKey(body: SlackEventEnvelope): string {
  const id = body?.event_id;
  if (typeof id !== 'string' || id.length === 0) throw new WebhookKeyMissingError('slack', 'event_id is missing');
  return id;
}

/**
 * Reads Slack's retry headers.
 *
 * @param headers - Request headers.
 * @returns A {@link SlackRetryInfo}.
 * @example
 * ```ts
 * import { slackRetryInfo } from '@hardening/idempotency';
 * slackRetryInfo({ 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' }); // { retryNum: 1, retryReason: 'http_timeout' }
 * ```
 */
export function slackRetryInfo(headers: WebhookHeaders): SlackRetryInfo {
  const num = Number(headerValue(headers, 'x-slack-retry-num') ?? 0);
  return { retryNum: Number.isInteger(num) && num > 0 ? num : 0, retryReason: headerValue(headers, 'x-slack-retry-reason') };
}

/** Options of {@link verifySlackSignature}. */
export interface SlackSignatureOptions {
  /** The app's signing secret. */
  readonly signingSecret: string;
  /** Request headers (`x-slack-signature`, `x-slack-request-timestamp`). */
  readonly headers: WebhookHeaders;
  /** The raw body bytes, exactly as received (verify before parsing JSON). */
  readonly rawBody: string | Uint8Array;
  /**
   * Oldest request timestamp accepted, in seconds from now (replay protection).
   * @default 300
   */
  readonly toleranceSeconds?: number | undefined;
  /**
   * Current time, epoch ms.
   * @default Date.now()
   */
  readonly now?: number | undefined;
}

// Hand-written: Slack ships this check only inside @slack/bolt (a whole framework); it is
// one HMAC compared in constant time.
/**
 * Verifies Slack's request signature: `v0=` + hex HMAC-SHA256 of
 * `v0:<timestamp>:<raw body>` under the signing secret, with the timestamp within
 * `toleranceSeconds` of now, compared in constant time.
 *
 * @param options - See {@link SlackSignatureOptions}.
 * @returns Whether the request is from Slack.
 * @example
 * ```ts
 * import express from 'express';
 * import { verifySlackSignature } from '@hardening/idempotency';
 * app.post('/slack/events', express.raw({ type: 'application/json' }), (req, res, next) => {
 *   if (!verifySlackSignature({ signingSecret: process.env.SLACK_SIGNING_SECRET!, headers: req.headers, rawBody: req.body })) return res.sendStatus(401);
 *   next();
 * });
 * ```
 */
export function verifySlackSignature(options: SlackSignatureOptions): boolean {
  const { signingSecret, headers, rawBody, toleranceSeconds = 300, now = Date.now() } = options;
  if (typeof signingSecret !== 'string' || signingSecret.length === 0) throw new TypeError('Expected `signingSecret` to be a non-empty string.');
  const signature = headerValue(headers, 'x-slack-signature');
  const timestamp = headerValue(headers, 'x-slack-request-timestamp');
  if (signature === undefined || timestamp === undefined || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(now / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`;
  const a = Buffer.from(expected);
  const b = Buffer.from(signature);
  return a.length === b.length && timingSafeEqual(a, b);
}
