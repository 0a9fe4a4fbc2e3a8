// Starts the reference app in-process, the way main.ts does (loadConfig -> buildContext ->
// createApp + startJobRunner), on a random port, pointed at local provider servers, and
// drives it over real HTTP with requests signed as each provider signs them.
//
// Features other branches add (scheduler loops, admin API, health) are tested by adding
// files: `app.request()` / `app.admin()` reach any route, `app.ctx` is the whole context,
// `startTestApp({ env, overrides })` sets anything the config or context takes.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FakeTwilioMessage } from '@hardening/test-support';
import type { AppContext } from '../../../src/app-context.js';
import { loadConfig, type Config } from '../../../src/config/config.js';
import { buildContext, type BuiltContext, type ContextOverrides } from '../../../src/context.js';
import { twilioSmsParams } from './twilio-sms-params.js';
import { addNumbers } from '../../../src/domain/number-pool.js';
import { OutboxWorker, type OutboxRound, type OutboxWorkerOptions } from '../../../src/jobs/outbox-worker.js';
import { startJobRunner } from '../../../src/jobs/job-runner.js';
import { createApp } from '../../../src/server.js';
import { openStorage, type BackendSpec, type Storage, type StorageOptions } from './backends.js';
import { captureLogs, type CapturedLogs } from './log-capture.js';
import { startProviders, type Providers } from './providers.js';
import { slackHeaders, stripeSignature, twilioCallStatusParams, twilioSignature } from './signing.js';

/** The system onboarding number every test app uses. */
export const systemNumber = '+15550001000';
/** The operator's phone (ALERT_SMS_TO): HIGH alerts go there by SMS. */
export const adminPhone = '+15550009999';
/** The admin bearer token. */
export const adminToken = 'e2e-admin-token-0123456789abcdef';

/** What a webhook call got back. */
export interface HttpReply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  /** Wall time of the request, for protocol deadlines (Slack's 3 s). */
  readonly elapsedMs: number;
  /** The `<Message>` texts of a TwiML answer. */
  readonly messages: string[];
}

/** How to sign a request: properly, not at all, or wrongly. */
export type SignatureMode = 'valid' | 'missing' | 'wrong';

/** Options of {@link startTestApp}. */
export interface TestAppOptions {
  /** Backend and Redis. @default PGlite in memory, no Redis */
  readonly spec?: BackendSpec;
  readonly storageOptions?: StorageOptions;
  /** Storage shared with another app (two instances of one deployment); not released by this app. */
  readonly storage?: Storage;
  /** Provider fakes shared with other apps; not closed by this app. */
  readonly providers?: Providers;
  /** Start a fake Sentry and set SENTRY_DSN (only when this app starts its own providers). */
  readonly sentry?: boolean;
  /** More environment (an `undefined` value removes a variable). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly overrides?: ContextOverrides;
  /** Start the queue's workers (startJobRunner). @default true */
  readonly jobRunner?: boolean;
  /** The URL providers call (Twilio signs over it). @default the app's own URL */
  readonly publicBaseUrl?: string;
  readonly label?: string;
  /** Client numbers to put in the pool at start. @default 0 */
  readonly poolNumbers?: number;
}

/** Sends requests to an app as its providers (and its operator) would. */
export interface WebhookClient {
  readonly url: string;
  readonly publicBaseUrl: string;
  /** Any request to the app. */
  request(method: string, path: string, init?: { headers?: Record<string, string>; body?: string }): Promise<HttpReply>;
  /** A request with the admin bearer token. */
  admin(method: string, path: string, body?: unknown): Promise<HttpReply>;
  /** POST a signed Twilio form webhook to `path`. */
  twilioWebhook(path: string, params: Record<string, string>, options?: { signature?: SignatureMode; idempotencyToken?: string }): Promise<HttpReply>;
  /** An inbound SMS (POST /sms), with Twilio's usual fields. */
  sms(
    input: { from: string; to: string; body: string; messageSid?: string },
    options?: { signature?: SignatureMode; idempotencyToken?: string },
  ): Promise<HttpReply>;
  /** A voice status callback (POST /api/twilio/status). */
  callStatus(input: { callSid: string; from: string; to: string; status: string }, options?: { signature?: SignatureMode }): Promise<HttpReply>;
  /** A Slack Events API delivery (POST /slack/events). */
  slackEvent(
    envelope: Record<string, unknown>,
    options?: { signature?: SignatureMode; retryNum?: number; retryReason?: string; timestampSec?: number },
  ): Promise<HttpReply>;
  /** A Stripe webhook (POST /webhooks/stripe). */
  stripeEvent(event: Record<string, unknown>, options?: { signature?: SignatureMode }): Promise<HttpReply>;
}

/** A running app and the means to drive it. */
export interface TestApp extends WebhookClient {
  readonly ctx: AppContext;
  /** The app's HTTP server (to observe sockets: bytes read before an answer). */
  readonly server: Server;
  readonly built: BuiltContext;
  readonly config: Config;
  readonly logs: CapturedLogs;
  readonly providers: Providers;
  readonly storage: Storage;
  readonly systemNumber: string;
  /** An outbox worker on this app's context (what the scheduler loop runs). */
  outboxWorker(options?: Partial<OutboxWorkerOptions>): OutboxWorker;
  /** Runs outbox rounds until one finds nothing due; returns the totals. */
  drainOutbox(options?: Partial<OutboxWorkerOptions>): Promise<OutboxRound>;
  /** Adds client numbers to the pool (as an operator would); returns them. */
  addPoolNumbers(count: number): Promise<string[]>;
  /** SMS the fake Twilio accepted for `to`, oldest first. */
  smsTo(to: string): FakeTwilioMessage[];
  close(): Promise<void>;
}

const twimlMessages = (body: string): string[] =>
  [...body.matchAll(/<Message>([\s\S]*?)<\/Message>/g)].map((m) =>
    m[1]!.replace(/&lt;|&gt;|&amp;|&apos;|&quot;/g, (e) => ({ '&lt;': '<', '&gt;': '>', '&amp;': '&', '&apos;': "'", '&quot;': '"' })[e]!),
  );

let numberCounter = 0;

/** Fresh client numbers for the pool (unique per process). */
export function poolNumbers(count: number): string[] {
  return Array.from({ length: count }, () => {
    numberCounter++;
    return `+1800555${String((process.pid * 37 + numberCounter) % 10_000).padStart(4, '0')}`;
  });
}

/**
 * Starts the app in-process on a random port. The port is taken first (a listening server
 * with no handler yet), so PUBLIC_BASE_URL is known before the configuration is loaded.
 */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const spec = options.spec ?? { backend: 'pglite', redis: false };
  const providers = options.providers ?? (await startProviders({ sentry: options.sentry === true }));
  const storage = options.storage ?? (await openStorage(spec, { label: options.label, ...options.storageOptions }));
  const server: Server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  const publicBaseUrl = options.publicBaseUrl ?? url;
  const env: Record<string, string | undefined> = {
    NODE_ENV: 'test',
    PORT: String(port),
    PUBLIC_BASE_URL: publicBaseUrl,
    TWILIO_FROM_NUMBER: systemNumber,
    ALERT_SMS_TO: adminPhone,
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'debug',
    ...providers.env(),
    ...storage.env,
    ...options.env,
  };
  const logs = captureLogs();
  const config = loadConfig(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)));
  let built: BuiltContext;
  try {
    built = await buildContext(config, { logger: logs.logger, spoolFile: join(storage.dir, `inbox-spool-${port}.jsonl`), ...options.overrides });
  } catch (error) {
    server.close();
    if (options.storage === undefined) await storage.release();
    if (options.providers === undefined) await providers.close();
    throw error;
  }
  const { ctx } = built;
  if (options.jobRunner !== false) startJobRunner(ctx);
  server.on('request', createApp(ctx));

  const client = createWebhookClient({ url, publicBaseUrl, providers });

  const outboxWorker: TestApp['outboxWorker'] = (overrides = {}) =>
    new OutboxWorker({
      db: ctx.db.prisma,
      sender: ctx.sms,
      safeCall: ctx.safeCall,
      logger: ctx.logger,
      alert: ctx.alert,
      deliverability: ctx.deliverability,
      statusCallbackUrl: (id) => `${publicBaseUrl.replace(/\/+$/, '')}/api/twilio/message-status?outboxId=${encodeURIComponent(id)}`,
      ...overrides,
    });

  return {
    ctx,
    server,
    built,
    config,
    logs,
    providers,
    storage,
    systemNumber,
    ...client,
    outboxWorker,
    drainOutbox: async (overrides) => {
      const worker = outboxWorker(overrides);
      const total: OutboxRound = { sent: 0, reconciled: 0, retrying: 0, unknown: 0, deadLettered: 0, notSent: 0, refused: 0, withheld: 0, held: 0 };
      for (let i = 0; i < 20; i++) {
        const round = await worker.runOnce();
        const handled = Object.values(round).reduce((a, b) => a + b, 0);
        for (const key of Object.keys(total) as Array<keyof OutboxRound>) total[key] += round[key];
        if (handled === 0) break;
      }
      return total;
    },
    addPoolNumbers: async (count) => {
      const numbers = poolNumbers(count);
      await addNumbers(ctx.db.prisma, numbers);
      return numbers;
    },
    smsTo: (to) => providers.twilio.messages.filter((m) => m.to === to),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await built.close();
      if (options.storage === undefined) await storage.release();
      if (options.providers === undefined) await providers.close();
    },
  };
}

/**
 * A client that calls the app at `url` the way its providers do: Twilio forms signed over
 * `publicBaseUrl` + path (the URL Twilio was given), Slack's v0 signature, Stripe's
 * signature header, and the admin bearer token.
 */
export function createWebhookClient(options: { url: string; publicBaseUrl: string; providers: Providers }): WebhookClient {
  const { url, publicBaseUrl, providers } = options;
  const request: WebhookClient['request'] = async (method, path, init = {}) => {
    const started = performance.now();
    const response = await fetch(`${url}${path}`, {
      method,
      ...(init.headers === undefined ? {} : { headers: init.headers }),
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    const body = await response.text();
    return { status: response.status, headers: response.headers, body, elapsedMs: performance.now() - started, messages: twimlMessages(body) };
  };

  const sign = (mode: SignatureMode | undefined, valid: () => Record<string, string>, wrong: () => Record<string, string>) =>
    mode === 'missing' ? {} : mode === 'wrong' ? wrong() : valid();

  const twilioWebhook: WebhookClient['twilioWebhook'] = (path, params, opts = {}) => {
    const signed = `${publicBaseUrl.replace(/\/+$/, '')}${path}`;
    const headers = {
      'Content-Type': 'application/x-www-form-urlencoded',
      'User-Agent': 'TwilioProxy/1.1',
      'I-Twilio-Idempotency-Token': opts.idempotencyToken ?? randomBytes(16).toString('hex'),
      ...sign(
        opts.signature,
        () => ({ 'X-Twilio-Signature': twilioSignature(providers.twilio.authToken, signed, params) }),
        () => ({ 'X-Twilio-Signature': twilioSignature('not-the-auth-token-at-all', signed, params) }),
      ),
    };
    return request('POST', path, { headers, body: new URLSearchParams(params).toString() });
  };

  return {
    url,
    publicBaseUrl,
    request,
    admin: (method, path, body) =>
      request(method, path, {
        headers: { Authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    twilioWebhook,
    sms: ({ from, to, body, messageSid }, opts) => {
      const sid = messageSid ?? `SM${randomBytes(16).toString('hex')}`;
      return twilioWebhook('/sms', twilioSmsParams({ messageSid: sid, from, to, body, accountSid: providers.twilio.accountSid }), opts);
    },
    callStatus: ({ callSid, from, to, status }, opts) =>
      twilioWebhook('/api/twilio/status', twilioCallStatusParams({ callSid, from, to, status, accountSid: providers.twilio.accountSid }), opts),
    slackEvent: (envelope, opts = {}) => {
      const raw = JSON.stringify(envelope);
      const headers = {
        'Content-Type': 'application/json',
        'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
        ...(opts.retryNum === undefined ? {} : { 'X-Slack-Retry-Num': String(opts.retryNum), 'X-Slack-Retry-Reason': opts.retryReason ?? 'http_timeout' }),
        ...sign(
          opts.signature,
          () => slackHeaders(providers.slackSigningSecret, raw, opts.timestampSec),
          () => slackHeaders('0123456789abcdef0123456789abcdef', raw, opts.timestampSec),
        ),
      };
      return request('POST', '/slack/events', { headers, body: raw });
    },
    stripeEvent: (event, opts = {}) => {
      const raw = JSON.stringify(event, null, 2);
      const headers = {
        'Content-Type': 'application/json; charset=utf-8',
        'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        ...sign(
          opts.signature,
          () => ({ 'Stripe-Signature': stripeSignature(providers.stripeWebhookSecret, raw) }),
          () => ({ 'Stripe-Signature': stripeSignature('whsec_not_the_endpoint_secret', raw) }),
        ),
      };
      return request('POST', '/webhooks/stripe', { headers, body: raw });
    },
  };
}
