import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Logger } from '@hardening/core';
import { consoleLogger } from '@hardening/core';
import type { AcknowledgeOptions, AcknowledgeResult, AckTarget } from '../acknowledgements/acknowledgements.js';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { describeError } from '../delivery.js';
import { slackAckActionId } from '../sinks/slack-blocks.js';

/**
 * Options for {@link createSlackAckHandler}.
 *
 * @example
 * ```ts
 * const handle = createSlackAckHandler({ alerts, signingSecret: process.env.SLACK_SIGNING_SECRET! });
 * ```
 */
export interface SlackAckHandlerOptions {
  /** The alert service (anything with `acknowledge`). */
  readonly alerts: { acknowledge(target: AckTarget, options: AcknowledgeOptions): Promise<AcknowledgeResult> };
  /** The Slack app's signing secret (Basic Information > App Credentials). */
  readonly signingSecret: string;
  /**
   * Requests whose `X-Slack-Request-Timestamp` is further than this from now are refused
   * (Slack's replay protection).
   * @default 300
   */
  readonly toleranceSeconds?: number;
  /** @default JSON lines on the console */
  readonly logger?: Logger;
  /** @default Date.now */
  readonly clock?: Clock;
}

/**
 * An interactive request from Slack, as the handler takes it: the raw body (before any
 * parser: the signature covers the exact bytes) and the headers.
 *
 * @example
 * ```ts
 * app.post('/webhooks/slack/interactivity', express.raw({ type: '*\/*' }), async (req, res) => {
 *   const answer = await handle({ rawBody: req.body, headers: req.headers });
 *   res.status(answer.status).set(answer.headers).send(answer.body);
 * });
 * ```
 */
export interface SlackActionRequest {
  readonly rawBody: string | Uint8Array;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

/**
 * What to answer Slack.
 *
 * @example
 * ```ts
 * const { status, headers, body } = await handle({ rawBody, headers });
 * ```
 */
export interface SlackActionResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** What the acknowledgement did, when the request carried one. */
  readonly outcome?: AcknowledgeResult;
}

const defaults = { toleranceSeconds: 300 };

function header(headers: SlackActionRequest['headers'], name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return typeof value === 'string' || value === undefined ? value : value[0];
}

function problem(status: number, title: string, detail: string): SlackActionResponse {
  // X-Slack-No-Retry: a refused request will not be better on a retry.
  return {
    status,
    headers: { 'content-type': 'application/problem+json', 'x-slack-no-retry': '1' },
    body: JSON.stringify({ type: 'about:blank', title, status, detail }),
  };
}

/**
 * Verifies Slack's request signature: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>`
 * with the signing secret, compared in constant time, timestamp within the tolerance.
 * Hand-written because Slack's own verifier lives in `@slack/bolt` (a whole framework);
 * the algorithm is Slack's documented one.
 */
function verify(request: SlackActionRequest, secret: string, nowMs: number, toleranceSeconds: number): string | undefined {
  const timestamp = header(request.headers, 'x-slack-request-timestamp');
  const signature = header(request.headers, 'x-slack-signature');
  if (timestamp === undefined || signature === undefined) return 'missing X-Slack-Request-Timestamp or X-Slack-Signature';
  const seconds = Number(timestamp);
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowMs / 1000 - seconds) > toleranceSeconds) return 'timestamp outside the allowed window';
  const raw = typeof request.rawBody === 'string' ? Buffer.from(request.rawBody, 'utf8') : Buffer.from(request.rawBody);
  const expected = Buffer.from(`v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(raw).digest('hex')}`, 'utf8');
  const given = Buffer.from(signature, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'signature does not match';
  return undefined;
}

/**
 * A handler for Slack's interactivity requests that acknowledges alerts: the "Acknowledge"
 * button of the Slack sink (`ackButton: true`) posts a signed `block_actions` payload; the
 * handler verifies the signature (refusing stale or forged requests with 401
 * problem+json), acknowledges the alert the button names (by the Slack user, via
 * `slack`), and answers 200 well within Slack's 3 s. Other actions are answered 200 and
 * ignored. A store failure answers 503 problem+json (Slack shows the click failed).
 *
 * @param options - See {@link SlackAckHandlerOptions}.
 * @returns The handler.
 * @throws TypeError when `signingSecret` or `alerts` is missing.
 * @example
 * ```ts
 * import express from 'express';
 * import { createSlackAckHandler } from '@hardening/alerting';
 * const handle = createSlackAckHandler({ alerts, signingSecret: process.env.SLACK_SIGNING_SECRET! });
 * app.post('/webhooks/slack/interactivity', express.raw({ type: '*\/*' }), async (req, res) => {
 *   const answer = await handle({ rawBody: req.body, headers: req.headers });
 *   res.status(answer.status).set(answer.headers).send(answer.body);
 * });
 * ```
 */
export function createSlackAckHandler(options: SlackAckHandlerOptions): (request: SlackActionRequest) => Promise<SlackActionResponse> {
  if (typeof options?.signingSecret !== 'string' || options.signingSecret === '')
    throw new TypeError('Expected `signingSecret` to be the Slack app signing secret.');
  if (typeof options.alerts?.acknowledge !== 'function') throw new TypeError('Expected `alerts` to be an AlertService.');
  const { alerts, signingSecret, toleranceSeconds = defaults.toleranceSeconds } = options;
  const logger = options.logger ?? consoleLogger({ component: 'alerting' });
  const clock = options.clock ?? systemClock;
  return async (request) => {
    const refused = verify(request, signingSecret, clock.now(), toleranceSeconds);
    if (refused !== undefined) {
      logger.warn({ reason: refused }, `alerting: Slack interactive request refused (${refused})`);
      return problem(401, 'Unauthorized', `Slack signature check failed: ${refused}.`);
    }
    const raw = typeof request.rawBody === 'string' ? request.rawBody : Buffer.from(request.rawBody).toString('utf8');
    let payload: { type?: unknown; user?: { id?: unknown; username?: unknown; name?: unknown }; actions?: Array<{ action_id?: unknown; value?: unknown }> };
    try {
      payload = JSON.parse(new URLSearchParams(raw).get('payload') ?? '') as typeof payload;
    } catch {
      return problem(400, 'Bad Request', 'Expected a form body with a JSON `payload` field.');
    }
    const action =
      payload?.type === 'block_actions' && Array.isArray(payload.actions) ? payload.actions.find((a) => a?.action_id === slackAckActionId) : undefined;
    if (action === undefined || typeof action.value !== 'string') return { status: 200, headers: {}, body: '' };
    let target: AckTarget;
    try {
      const value = JSON.parse(action.value) as { type?: unknown; key?: unknown; id?: unknown };
      if (typeof value.type === 'string' && typeof value.key === 'string')
        target = { type: value.type, ...(value.key === '*' ? {} : { resourceId: value.key }) };
      else if (typeof value.id === 'string') target = value.id;
      else throw new TypeError('no alert named');
    } catch {
      return problem(400, 'Bad Request', 'The Acknowledge button does not name an alert.');
    }
    const user = payload.user ?? {};
    const who = [user.username, user.name, user.id].find((v): v is string => typeof v === 'string' && v !== '') ?? 'unknown';
    try {
      const outcome = await alerts.acknowledge(target, { by: `slack:${who}`, via: 'slack' });
      return { status: 200, headers: {}, body: '', outcome };
    } catch (error) {
      logger.error({ err: describeError(error) }, 'alerting: a Slack acknowledgement could not be stored');
      return problem(503, 'Service Unavailable', 'The acknowledgement could not be stored; try again.');
    }
  };
}
