import { consoleLogger, scrubText, type Logger } from '@hardening/core';
import type { Clock } from '../clock.js';
import type { Timers } from '@hardening/core';
import { isIdempotencyInProgressError } from '../errors/idempotency-in-progress-error.js';
import { IdempotencyGuard, type InProgressPolicy } from '../guard.js';
import type { IdempotencyStore } from '../store.js';
import { slackDedupKey, slackRetryInfo, type SlackEventEnvelope } from './slack.js';
import { standardWebhookDedupKey } from './standard-webhooks.js';
import { stripeDedupKey, type StripeEventLike } from './stripe.js';
import { twilioDedupKey, type TwilioWebhookKind, type TwilioWebhookRequest } from './twilio.js';
import { headerValue, type WebhookHeaders, type WebhookReply, type WebhookResult } from './webhook-types.js';

/**
 * Options for {@link createWebhookDedup}.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRedisStore, createWebhookDedup } from '@hardening/idempotency';
 * const dedup = createWebhookDedup({ store: createRedisStore({ redis: new Redis() }), logger: pino() });
 * ```
 */
export interface WebhookDedupOptions {
  /** Where records live (PostgreSQL or Redis when several instances take webhooks). */
  readonly store: IdempotencyStore;
  /**
   * Prefix of every key; each provider adds its own (`twilio:`, `slack:`, ...).
   * @default 'webhook:'
   */
  readonly namespace?: string | undefined;
  /**
   * Lease of a delivery being processed. A crashed instance's delivery is processed again
   * by the provider's next retry after this long.
   * @default 60_000
   */
  readonly leaseMs?: number | undefined;
  /**
   * How long processed deliveries are remembered. Stripe retries for up to 3 days, so its
   * helper keeps 4 days unless you pass a per-call `retentionMs`.
   * @default 86_400_000 (24 h)
   */
  readonly retentionMs?: number | undefined;
  /**
   * Where duplicates (info), retries (info) and failures are logged. Phone numbers and
   * secrets are scrubbed.
   * @default consoleLogger()
   */
  readonly logger?: Logger | undefined;
  /**
   * Time source.
   * @default Date.now
   */
  readonly clock?: Clock | undefined;
  /**
   * Timers of the guard underneath (lease signal, waits, record retries); see {@link Timers}.
   * @default the global setTimeout/clearTimeout
   * @example
   * ```ts
   * { timers: { setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) } }
   * ```
   */
  readonly timers?: Timers | undefined;
}

/** Per-delivery options of the helpers. */
export interface WebhookHandleOptions {
  /**
   * Separates endpoints whose keys could collide (a voice URL and a status-callback URL
   * see the same `CallSid`).
   * @default ''
   */
  readonly endpoint?: string | undefined;
  /** @default the dedup's `retentionMs` (4 days for Stripe) */
  readonly retentionMs?: number | undefined;
  /**
   * A delivery that arrives while the first is still processed: `'wait'` (bounded by
   * `waitTimeoutMs`) then replay the first reply, or `'error'` to answer 409 so the
   * provider retries later.
   * @default 'wait' for Twilio (it cannot get the first TwiML otherwise), 'error' for the others
   */
  readonly onInProgress?: InProgressPolicy | undefined;
  /**
   * Longest wait with `onInProgress: 'wait'`; keep it under the provider's timeout (Twilio: 15 s).
   * @default 10_000
   */
  readonly waitTimeoutMs?: number | undefined;
  /**
   * Once the handler has its reply, the longest the reply waits for the dedup record. Past
   * it, or when the store fails to record it, the reply is sent anyway (`recordPending`),
   * since it may be the only copy of the answer: a provider that gave up waiting (Twilio,
   * 15 s) takes it with it. The record is still written in the background until the lease
   * ends; a duplicate arriving meanwhile waits for it or, after the lease, runs again (keep
   * your handler idempotent: an inbox row deduplicated on the provider's id). `undefined`
   * waits for the record (a store failure then throws).
   * @default 1500 for Twilio (its TwiML reply is the only copy), undefined for the others
   */
  readonly recordTimeoutMs?: number | undefined;
}

/** What a provider handler may return: a full reply, or nothing for the provider's usual 2xx. */
export type WebhookHandlerResult = WebhookReply | string | void | undefined;

const defaults = {
  namespace: 'webhook:',
  stripeRetentionMs: 4 * 86_400_000,
  waitTimeoutMs: 10_000,
  twilioRecordTimeoutMs: 1500,
};

const emptyTwiml = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

/** A reply worth replaying: anything but a 5xx (the provider's retry should run the handler again). */
function storedReply(reply: WebhookReply): boolean {
  return reply.status < 500;
}

function toReply(result: WebhookHandlerResult, fallback: WebhookReply, stringType: string): WebhookReply {
  if (result === undefined || result === null) return fallback;
  if (typeof result === 'string') return { status: 200, headers: { 'content-type': stringType }, body: result };
  if (typeof result === 'object' && typeof result.status === 'number') {
    return { status: result.status, headers: { ...(result.headers ?? {}) }, body: typeof result.body === 'string' ? result.body : '' };
  }
  throw new TypeError('Expected the webhook handler to return a string, a { status, headers, body } reply, or nothing.');
}

/**
 * Deduplicates provider webhooks: each helper derives the provider's key from an
 * already-verified request (verify signatures first, see the README), runs your handler
 * once per key, and answers a duplicate the way that stops the provider retrying (the
 * same TwiML for Twilio, a 200 for Slack, Stripe and Standard Webhooks), logging it as a
 * duplicate. A handler that throws releases the key and the error propagates: answer 5xx
 * so the provider retries.
 */
export class WebhookDedup {
  private readonly options: WebhookDedupOptions;
  private readonly logger: Logger;
  private readonly guards = new Map<string, IdempotencyGuard>();

  /**
   * @param options - See {@link WebhookDedupOptions}.
   * @throws TypeError naming the first invalid option.
   */
  constructor(options: WebhookDedupOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('Expected `options` to be an object.');
    this.options = { ...options, namespace: options.namespace ?? defaults.namespace };
    this.logger = options.logger ?? consoleLogger({ component: 'webhook-dedup' });
    this.guardFor('twilio'); // validates the options now rather than on the first webhook
  }

  /**
   * A Twilio webhook (SMS, message status, voice status, any other). The first delivery's
   * TwiML is stored; a duplicate gets the same TwiML again. A delivery arriving while the
   * first is still processed waits for it (bounded) and gets its TwiML.
   *
   * @param request - Headers and form parameters of a request `twilio.validateRequest` accepted.
   * @param handler - Returns the TwiML (a string), a full reply, or nothing (empty `<Response/>`).
   * @param options - `kind` picks the identifier ({@link TwilioWebhookKind}); see {@link WebhookHandleOptions}.
   * @returns The reply to send.
   * @throws {@link WebhookKeyMissingError} when the request has no Twilio identifier; what `handler` throws.
   * @example
   * ```ts
   * app.post('/twilio/sms', express.urlencoded({ extended: false }), async (req, res) => {
   *   const result = await dedup.twilio({ headers: req.headers, params: req.body }, async () => {
   *     const reply = await answerCustomer(req.body.From, req.body.Body);
   *     return `<Response><Message>${escapeXml(reply)}</Message></Response>`;
   *   });
   *   res.status(result.status).set(result.headers).send(result.body);
   * });
   * ```
   */
  twilio(
    request: TwilioWebhookRequest,
    handler: () => Promise<WebhookHandlerResult> | WebhookHandlerResult,
    options: WebhookHandleOptions & { readonly kind?: TwilioWebhookKind } = {},
  ): Promise<WebhookResult> {
    const key = twilioDedupKey(request, options.kind);
    const token = headerValue(request.headers, 'i-twilio-idempotency-token');
    return this.handle('twilio', key, handler, {
      onInProgress: 'wait',
      recordTimeoutMs: defaults.twilioRecordTimeoutMs,
      ...options,
      fallback: { status: 200, headers: { 'content-type': 'text/xml' }, body: emptyTwiml },
      stringType: 'text/xml',
      logFields: token === undefined ? {} : { twilioIdempotencyToken: token },
    });
  }

  /**
   * A Slack Events API delivery. `url_verification` is answered with its challenge (not
   * deduplicated); an `event_callback` runs `handler` once per `event_id`, and duplicates
   * (Slack's retries, marked by `X-Slack-Retry-Num`/`X-Slack-Retry-Reason`) get a 200.
   *
   * @param request - Headers and parsed body of a request whose signature you verified
   *   (see {@link verifySlackSignature}).
   * @param handler - Processes the event; return nothing for a plain 200.
   * @param options - See {@link WebhookHandleOptions}.
   * @returns The reply to send.
   * @throws {@link WebhookKeyMissingError} when the body has no `event_id`; what `handler` throws.
   * @example
   * ```ts
   * const result = await dedup.slack({ headers: req.headers, body: JSON.parse(rawBody) }, (envelope) => handleEvent(envelope.event));
   * res.status(result.status).set(result.headers).send(result.body);
   * ```
   */
  async slack<B extends SlackEventEnvelope>(
    request: { readonly headers: WebhookHeaders; readonly body: B },
    handler: (envelope: B) => Promise<WebhookHandlerResult> | WebhookHandlerResult,
    options: WebhookHandleOptions = {},
  ): Promise<WebhookResult> {
    const { body } = request;
    if (body?.type === 'url_verification' && typeof body.challenge === 'string') {
      return {
        provider: 'slack',
        key: '',
        duplicate: false,
        inProgress: false,
        recordPending: false,
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ challenge: body.challenge }),
      };
    }
    const key = slackDedupKey(body);
    const retry = slackRetryInfo(request.headers);
    return this.handle('slack', key, () => handler(body), {
      ...options,
      fallback: { status: 200, headers: {}, body: '' },
      stringType: 'text/plain; charset=utf-8',
      logFields: retry.retryNum > 0 ? { slackRetryNum: retry.retryNum, slackRetryReason: retry.retryReason } : {},
      providerRetry: retry.retryNum > 0,
    });
  }

  /**
   * A Stripe event. Runs `handler` once per `event.id`; duplicates get a 200. Records are
   * kept 4 days by default, longer than Stripe's 3 days of retries.
   *
   * @param event - The event `stripe.webhooks.constructEvent` returned (verified).
   * @param handler - Processes the event; return nothing for `200 {"received":true}`.
   * @param options - See {@link WebhookHandleOptions}.
   * @returns The reply to send.
   * @throws {@link WebhookKeyMissingError} when the event has no id; what `handler` throws.
   * @example
   * ```ts
   * const event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], endpointSecret);
   * const result = await dedup.stripe(event, (e) => fulfil(e));
   * res.status(result.status).set(result.headers).send(result.body);
   * ```
   */
  stripe<E extends StripeEventLike>(
    event: E,
    handler: (event: E) => Promise<WebhookHandlerResult> | WebhookHandlerResult,
    options: WebhookHandleOptions = {},
  ): Promise<WebhookResult> {
    const key = stripeDedupKey(event);
    return this.handle('stripe', key, () => handler(event), {
      retentionMs: this.options.retentionMs ?? defaults.stripeRetentionMs,
      ...options,
      fallback: { status: 200, headers: { 'content-type': 'application/json' }, body: '{"received":true}' },
      stringType: 'text/plain; charset=utf-8',
      logFields: typeof event.type === 'string' ? { stripeEventType: event.type } : {},
    });
  }

  /**
   * A Standard Webhooks delivery (Svix, Resend, ...). Runs `handler` once per `webhook-id`;
   * duplicates get a 200.
   *
   * @param request - Headers of a request whose signature you verified (`new Webhook(secret).verify(...)`).
   * @param handler - Processes the message; return nothing for an empty 200.
   * @param options - See {@link WebhookHandleOptions}.
   * @returns The reply to send.
   * @throws {@link WebhookKeyMissingError} without `webhook-id`; what `handler` throws.
   * @example
   * ```ts
   * const payload = new Webhook(secret).verify(rawBody, req.headers);
   * const result = await dedup.standardWebhooks({ headers: req.headers }, () => handle(payload));
   * ```
   */
  standardWebhooks(
    request: { readonly headers: WebhookHeaders },
    handler: () => Promise<WebhookHandlerResult> | WebhookHandlerResult,
    options: WebhookHandleOptions = {},
  ): Promise<WebhookResult> {
    const key = standardWebhookDedupKey(request.headers);
    return this.handle('standard-webhooks', key, handler, {
      ...options,
      fallback: { status: 200, headers: {}, body: '' },
      stringType: 'text/plain; charset=utf-8',
      logFields: {},
    });
  }

  /**
   * Any other provider: you derive the key.
   *
   * @param provider - A short name, used in keys and logs.
   * @param key - The provider's event id.
   * @param handler - Processes the event.
   * @param options - See {@link WebhookHandleOptions}; `fallback` is the reply when the handler returns nothing.
   * @returns The reply to send.
   * @throws What `handler` throws.
   * @example
   * ```ts
   * const result = await dedup.handle('github', String(req.headers['x-github-delivery']), () => onPush(req.body));
   * ```
   */
  async handle(
    provider: string,
    key: string,
    handler: () => Promise<WebhookHandlerResult> | WebhookHandlerResult,
    options: WebhookHandleOptions & {
      /** The reply when the handler returns nothing. */
      readonly fallback?: WebhookReply | undefined;
      /** Content type of a reply given as a string. */
      readonly stringType?: string | undefined;
      /** Extra fields for the log lines. */
      readonly logFields?: Record<string, unknown> | undefined;
      /** The provider marked this delivery as a retry. */
      readonly providerRetry?: boolean | undefined;
    } = {},
  ): Promise<WebhookResult> {
    const { endpoint = '', fallback = { status: 200, headers: {}, body: '' }, stringType = 'text/plain; charset=utf-8', logFields = {} } = options;
    if (typeof endpoint !== 'string') throw new TypeError('Expected `endpoint` to be a string.');
    const guard = this.guardFor(endpoint === '' ? provider : `${provider}:${endpoint}`);
    // Built only for a line that is written: scrubbing the key on every delivery showed in
    // `pnpm bench:app` profiles, and most deliveries log nothing here.
    const fields = () => ({ provider, key: scrubText(key), ...(endpoint === '' ? {} : { endpoint }), ...logFields });
    try {
      const outcome = await guard.execute(key, async () => toReply(await handler(), fallback, stringType), {
        retentionMs: options.retentionMs,
        onInProgress: options.onInProgress,
        waitTimeoutMs: options.waitTimeoutMs ?? defaults.waitTimeoutMs,
        shouldStore: storedReply,
        ...(options.recordTimeoutMs === undefined ? {} : { recordTimeoutMs: options.recordTimeoutMs }),
      });
      const reply = outcome.value;
      if (outcome.status === 'replayed') {
        this.logger.info(fields(), 'webhook: duplicate delivery, answered with the first reply and not processed again');
        return { ...reply, provider, key, duplicate: true, inProgress: false, recordPending: false };
      }
      if (options.providerRetry === true) {
        this.logger.info(fields(), 'webhook: retried delivery processed for the first time');
      }
      return { ...reply, provider, key, duplicate: false, inProgress: false, recordPending: outcome.recordPending === true };
    } catch (error) {
      if (!isIdempotencyInProgressError(error)) throw error;
      this.logger.info(
        { ...fields(), waitedMs: error.waitedMs },
        'webhook: duplicate delivery while the first is still processed; asked the provider to retry later',
      );
      const retryAfter = String(Math.max(1, Math.min(60, Math.ceil((error.retryAfterMs ?? 1000) / 1000))));
      const body = JSON.stringify({
        type: 'about:blank',
        title: 'Delivery already in progress',
        status: 409,
        detail: 'This event is being processed by an earlier delivery. Retry later.',
      });
      return {
        provider,
        key,
        duplicate: true,
        inProgress: true,
        recordPending: false,
        status: 409,
        headers: { 'content-type': 'application/problem+json', 'retry-after': retryAfter },
        body,
      };
    }
  }

  private guardFor(namespace: string): IdempotencyGuard {
    let guard = this.guards.get(namespace);
    if (guard === undefined) {
      guard = new IdempotencyGuard({
        store: this.options.store,
        namespace: `${this.options.namespace}${namespace}:`,
        leaseMs: this.options.leaseMs,
        retentionMs: this.options.retentionMs,
        logger: this.logger,
        clock: this.options.clock,
        timers: this.options.timers,
      });
      this.guards.set(namespace, guard);
    }
    return guard;
  }
}

/**
 * Creates a {@link WebhookDedup}.
 *
 * @param options - See {@link WebhookDedupOptions}.
 * @returns The helpers (`twilio`, `slack`, `stripe`, `standardWebhooks`, `handle`).
 * @throws TypeError naming the first invalid option.
 * @example
 * ```ts
 * import { createMemoryStore, createWebhookDedup } from '@hardening/idempotency';
 * const dedup = createWebhookDedup({ store: createMemoryStore() });
 * const first = await dedup.stripe({ id: 'evt_1', type: 'invoice.paid' }, async () => {});
 * const again = await dedup.stripe({ id: 'evt_1', type: 'invoice.paid' }, async () => {});
 * console.log(first.duplicate, again.duplicate, again.status); // false true 200
 * ```
 */
export function createWebhookDedup(options: WebhookDedupOptions): WebhookDedup {
  return new WebhookDedup(options);
}
