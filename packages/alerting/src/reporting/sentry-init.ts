import { scrubText, scrubValue } from '@hardening/core';

/**
 * The slice of `@sentry/node` that {@link initSentryFromEnv} calls.
 *
 * @example
 * ```ts
 * import * as Sentry from '@sentry/node';
 * import { initSentryFromEnv } from '@hardening/alerting';
 * initSentryFromEnv({ sentry: Sentry });
 * ```
 */
export interface SentryInitLike {
  init(options: Record<string, unknown>): unknown;
}

/**
 * Options for {@link initSentryFromEnv}.
 *
 * @example
 * ```ts
 * import * as Sentry from '@sentry/node';
 * import { initSentryFromEnv } from '@hardening/alerting';
 * initSentryFromEnv({ sentry: Sentry, options: { tracesSampleRate: 0 } });
 * ```
 */
export interface InitSentryOptions {
  /** The `@sentry/node` module. */
  readonly sentry: SentryInitLike;
  /**
   * Where `SENTRY_DSN`, `SENTRY_ENVIRONMENT` (else `NODE_ENV`), `SENTRY_RELEASE` and
   * `SENTRY_TRACES_SAMPLE_RATE` are read.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * More `Sentry.init` options; they win over the env, except `sendDefaultPii` (always
   * false) and `beforeSend`/`beforeBreadcrumb`, which run after the scrubbing.
   */
  readonly options?: Readonly<Record<string, unknown>>;
}

/**
 * What {@link initSentryFromEnv} did.
 *
 * @example
 * ```ts
 * const { enabled, reason } = initSentryFromEnv({ sentry: Sentry });
 * if (!enabled) console.warn(`Sentry off: ${reason}`);
 * ```
 */
export interface SentryInitResult {
  /** Whether Sentry was initialised (a DSN was set). */
  readonly enabled: boolean;
  /** Why not. */
  readonly reason?: string;
}

/**
 * A Sentry event or breadcrumb, loosely typed: Sentry's own types are large and
 * `@sentry/node` is an optional peer dependency, so they are not imported; the scrubbing
 * walks whatever fields are there.
 *
 * @example
 * ```ts
 * import { scrubSentryEvent, type SentryEventLike } from '@hardening/alerting';
 * const clean: SentryEventLike = scrubSentryEvent({ message: 'SMS to +15551234567 failed' });
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SentryEventLike = Record<string, any>;
type SentryEvent = SentryEventLike;

/**
 * The fields {@link scrubSentryEvent} walks, each only as trusted as the event allows: a
 * value is scrubbed after a runtime check of its shape, never assumed.
 */
interface ScrubbedEvent {
  message?: unknown;
  logentry?: { message?: unknown; params?: unknown };
  exception?: { values?: Array<{ value?: unknown; stacktrace?: { frames?: Array<{ vars?: unknown }> } }> };
  extra?: unknown;
  contexts?: unknown;
  tags?: Record<string, unknown>;
  breadcrumbs?: unknown;
  request?: { cookies?: unknown; headers?: Record<string, unknown>; data?: unknown; query_string?: unknown; url?: unknown };
  user?: { id?: unknown } | undefined;
}

const droppedHeaders = /^(authorization|cookie|set-cookie|x-api-key|x-twilio-signature|x-slack-signature|stripe-signature|proxy-authorization)$/i;

function scrubRecord(value: unknown): unknown {
  return value === undefined ? undefined : scrubValue(value);
}

/**
 * Removes personal data and secrets from a Sentry event before it leaves the process:
 * phone numbers, emails and tokens in the message, exception values, breadcrumbs, extra,
 * contexts and tags; the request's cookies, auth and signature headers, body and query;
 * the user down to its id. Install it as `beforeSend` (as {@link initSentryFromEnv} does).
 *
 * @param event - A Sentry event.
 * @returns The same event, scrubbed.
 * @example
 * ```ts
 * import * as Sentry from '@sentry/node';
 * import { scrubSentryEvent } from '@hardening/alerting';
 * Sentry.init({ dsn: process.env.SENTRY_DSN, sendDefaultPii: false, beforeSend: (event) => scrubSentryEvent(event) });
 * ```
 */
export function scrubSentryEvent<T extends SentryEvent>(event: T): T {
  const e = event as ScrubbedEvent;
  if (typeof e.message === 'string') e.message = scrubText(e.message);
  if (e.logentry !== undefined) {
    if (typeof e.logentry.message === 'string') e.logentry.message = scrubText(e.logentry.message);
    if (Array.isArray(e.logentry.params)) e.logentry.params = scrubValue(e.logentry.params);
  }
  for (const exception of e.exception?.values ?? []) {
    if (typeof exception.value === 'string') exception.value = scrubText(exception.value);
    for (const frame of exception.stacktrace?.frames ?? []) {
      // Local variables can hold anything (request bodies, tokens).
      if (frame.vars !== undefined) frame.vars = scrubValue(frame.vars);
    }
  }
  if (e.extra !== undefined) e.extra = scrubRecord(e.extra);
  if (e.contexts !== undefined) e.contexts = scrubRecord(e.contexts);
  if (e.tags !== undefined) {
    for (const [key, value] of Object.entries(e.tags)) if (typeof value === 'string') e.tags[key] = scrubText(value);
  }
  if (Array.isArray(e.breadcrumbs)) e.breadcrumbs = (e.breadcrumbs as SentryEvent[]).map((crumb) => scrubBreadcrumb(crumb));
  if (e.request !== undefined) {
    const request = e.request;
    delete request.cookies;
    if (request.headers !== undefined) {
      for (const name of Object.keys(request.headers)) if (droppedHeaders.test(name)) delete request.headers[name];
    }
    if (request.data !== undefined) request.data = typeof request.data === 'string' ? scrubText(request.data) : scrubValue(request.data);
    if (typeof request.query_string === 'string') request.query_string = scrubText(request.query_string);
    else if (request.query_string !== undefined) request.query_string = scrubValue(request.query_string);
    if (typeof request.url === 'string') request.url = scrubText(request.url);
  }
  if (e.user !== undefined) e.user = e.user.id !== undefined ? { id: e.user.id } : undefined;
  return event;
}

/**
 * Scrubs a breadcrumb's message and data (see {@link scrubSentryEvent}).
 *
 * @param crumb - A Sentry breadcrumb.
 * @returns The same breadcrumb, scrubbed.
 * @example
 * ```ts
 * import { scrubBreadcrumb } from '@hardening/alerting';
 * Sentry.init({ beforeBreadcrumb: (crumb) => scrubBreadcrumb(crumb) });
 * ```
 */
export function scrubBreadcrumb<T extends SentryEvent>(crumb: T): T {
  const c = crumb as SentryEvent;
  if (typeof c.message === 'string') c.message = scrubText(c.message);
  if (c.data !== undefined) c.data = scrubValue(c.data);
  return crumb;
}

/**
 * Initialises Sentry from the environment with personal data kept out: `sendDefaultPii:
 * false`, and {@link scrubSentryEvent} as `beforeSend` (your own `beforeSend` runs after
 * it). Without `SENTRY_DSN` nothing is initialised and the result says why. For ESM apps,
 * call it in a file loaded with `node --import ./instrument.mjs`, before other imports.
 *
 * @param options - See {@link InitSentryOptions}.
 * @returns Whether Sentry is on.
 * @throws TypeError when `sentry` is not the Sentry module or a variable is malformed.
 * @example
 * ```ts
 * // instrument.mjs
 * import * as Sentry from '@sentry/node';
 * import { initSentryFromEnv } from '@hardening/alerting';
 * const { enabled, reason } = initSentryFromEnv({ sentry: Sentry });
 * if (!enabled) console.warn(`Sentry off: ${reason}`);
 * ```
 */
export function initSentryFromEnv(options: InitSentryOptions): SentryInitResult {
  const sentry = options?.sentry;
  if (typeof sentry?.init !== 'function') throw new TypeError('Expected `sentry` to be the @sentry/node module (with init).');
  const env = options.env ?? process.env;
  const dsn = env.SENTRY_DSN?.trim();
  if (dsn === undefined || dsn === '') return { enabled: false, reason: 'SENTRY_DSN is not set' };
  if (!/^https?:\/\/[^@\s]+@[^/\s]+\/\S+$/.test(dsn)) {
    throw new TypeError('Expected `SENTRY_DSN` to be a DSN like https://<key>@o0.ingest.sentry.io/<project>.');
  }
  let tracesSampleRate: number | undefined;
  if (env.SENTRY_TRACES_SAMPLE_RATE !== undefined && env.SENTRY_TRACES_SAMPLE_RATE !== '') {
    tracesSampleRate = Number(env.SENTRY_TRACES_SAMPLE_RATE);
    if (!(tracesSampleRate >= 0 && tracesSampleRate <= 1)) throw new TypeError('Expected `SENTRY_TRACES_SAMPLE_RATE` to be a number from 0 to 1.');
  }
  const extra = options.options ?? {};
  const userBeforeSend = extra.beforeSend as ((event: SentryEvent, hint: unknown) => SentryEvent | null | PromiseLike<SentryEvent | null>) | undefined;
  const userBeforeBreadcrumb = extra.beforeBreadcrumb as ((crumb: SentryEvent, hint: unknown) => SentryEvent | null) | undefined;
  sentry.init({
    environment: env.SENTRY_ENVIRONMENT ?? env.NODE_ENV ?? 'production',
    ...(env.SENTRY_RELEASE ? { release: env.SENTRY_RELEASE } : {}),
    ...(tracesSampleRate !== undefined ? { tracesSampleRate } : {}),
    ...extra,
    dsn,
    sendDefaultPii: false,
    beforeSend: (event: SentryEvent, hint: unknown) => {
      const scrubbed = scrubSentryEvent(event);
      return userBeforeSend === undefined ? scrubbed : userBeforeSend(scrubbed, hint);
    },
    beforeBreadcrumb: (crumb: SentryEvent, hint: unknown) => {
      const scrubbed = scrubBreadcrumb(crumb);
      return userBeforeBreadcrumb === undefined ? scrubbed : userBeforeBreadcrumb(scrubbed, hint);
    },
  });
  return { enabled: true };
}
