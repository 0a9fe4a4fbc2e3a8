import { randomUUID } from 'node:crypto';
import type { AlertMessage } from '../alert.js';
import { SinkRejectedError } from '../errors/sink-rejected-error.js';
import { displayResource, headline, scrubbedAlert } from '../format.js';
import type { AlertSink, SinkContext, SinkReceipt } from './sink.js';

/**
 * What Sentry's transport answered for one event (`afterSendEvent`).
 *
 * @example
 * ```ts
 * Sentry.getClient()?.on('afterSendEvent', (event, response) => console.log(event.event_id, response.statusCode));
 * ```
 */
export interface SentrySendResponse {
  readonly statusCode?: number;
  readonly headers?: Readonly<Record<string, string | null>>;
}

/**
 * The slice of a Sentry client the sink listens on.
 *
 * @example
 * ```ts
 * import * as Sentry from '@sentry/node';
 * import type { SentryClientLike } from '@hardening/alerting';
 * const client: SentryClientLike | undefined = Sentry.getClient();
 * ```
 */
export interface SentryClientLike {
  on?(hook: 'afterSendEvent', callback: (event: { event_id?: string }, response: SentrySendResponse) => void): unknown;
}

/**
 * The slice of `@sentry/node` the Sentry sink and the reporting helpers use: pass the
 * module itself (`import * as Sentry from '@sentry/node'`) after `Sentry.init(...)`.
 * `@sentry/node` is an optional peer dependency.
 *
 * @example
 * ```ts
 * import * as Sentry from '@sentry/node';
 * import { createSentrySink } from '@hardening/alerting';
 * const sink = createSentrySink({ sentry: Sentry });
 * ```
 */
export interface SentryLike {
  captureEvent(event: Record<string, unknown>, hint?: { event_id?: string }): string;
  getClient?(): SentryClientLike | undefined;
  flush?(timeout?: number): PromiseLike<boolean>;
}

/**
 * Options for {@link createSentrySink}.
 *
 * @example
 * ```ts
 * import * as Sentry from '@sentry/node';
 * import { createSentrySink } from '@hardening/alerting';
 * const sentrySink = createSentrySink({ sentry: Sentry, confirmTimeoutMs: 3000 });
 * ```
 */
export interface SentrySinkOptions {
  /** The `@sentry/node` module, initialised. */
  readonly sentry: SentryLike;
  /**
   * Sink name, used in routes.
   * @default 'sentry'
   */
  readonly name?: string;
  /**
   * How long to wait for Sentry's answer to the event before the attempt counts as
   * failed (an event dropped by `beforeSend` or the SDK's own rate limiting never gets one).
   * @default 5000
   */
  readonly confirmTimeoutMs?: number;
}

const defaults = { name: 'sentry', confirmTimeoutMs: 5000 };

const levels = { HIGH: 'error', MEDIUM: 'warning', LOW: 'info' } as const;

function sentryEvent(message: AlertMessage): Record<string, unknown> {
  const resource = displayResource(message.resourceId);
  return {
    message: headline(message),
    level: message.kind === 'resolve' ? 'info' : levels[message.severity],
    logger: 'hardening.alerting',
    tags: {
      'alert.type': message.type,
      'alert.severity': message.severity,
      'alert.kind': message.kind,
      ...(resource !== undefined ? { 'alert.resource': resource } : {}),
    },
    extra: { alert: scrubbedAlert(message) },
    fingerprint: ['hardening-alert', message.type, resource ?? message.key],
  };
}

/**
 * An alert sink that records alerts as Sentry events, scrubbed of phone numbers, emails
 * and tokens (whatever `beforeSend` you configured also runs). The delivery is confirmed
 * by Sentry's own answer to the event (the SDK's `afterSendEvent` hook): a 2xx counts,
 * a 429 or 5xx is retried with the same event id (Sentry drops duplicates of an id), no
 * answer in `confirmTimeoutMs` fails the attempt.
 *
 * @param options - See {@link SentrySinkOptions}.
 * @returns The sink.
 * @throws TypeError when `sentry` is not the Sentry module.
 * @example
 * ```ts
 * import * as Sentry from '@sentry/node';
 * import { createAlertService, createSentrySink } from '@hardening/alerting';
 * Sentry.init({ dsn: process.env.SENTRY_DSN, sendDefaultPii: false });
 * const alerts = createAlertService({ sinks: [createSentrySink({ sentry: Sentry })], routes: { HIGH: ['sentry'] } });
 * ```
 */
export function createSentrySink(options: SentrySinkOptions): AlertSink {
  const sentry = options?.sentry as Partial<SentryLike> | undefined;
  if (typeof sentry?.captureEvent !== 'function') {
    throw new TypeError('Expected `sentry` to be the @sentry/node module (with captureEvent).');
  }
  const confirmTimeoutMs = options.confirmTimeoutMs ?? defaults.confirmTimeoutMs;
  if (!Number.isFinite(confirmTimeoutMs) || confirmTimeoutMs <= 0) {
    throw new TypeError(`Expected \`confirmTimeoutMs\` to be a positive number, got ${String(confirmTimeoutMs)}.`);
  }
  const name = options.name ?? defaults.name;
  const waiters = new Map<string, (response: SentrySendResponse) => void>();
  const hooked = new WeakSet<object>();

  const listeningClient = (): SentryClientLike | undefined => {
    const client = sentry.getClient?.();
    if (client === undefined || typeof client.on !== 'function') return undefined;
    if (!hooked.has(client)) {
      hooked.add(client);
      client.on('afterSendEvent', (event, response) => {
        const waiter = event.event_id === undefined ? undefined : waiters.get(event.event_id);
        if (waiter !== undefined) {
          waiters.delete(event.event_id!);
          waiter(response);
        }
      });
    }
    return client;
  };

  return {
    name,
    remote: true,
    async send(message: AlertMessage, context: SinkContext): Promise<SinkReceipt> {
      // One event id for every attempt of this delivery: Sentry keeps one event per id.
      const eventId = (context.memo.get('sentry:eventId') as string | undefined) ?? randomUUID().replace(/-/g, '');
      context.memo.set('sentry:eventId', eventId);
      const client = listeningClient();
      if (client === undefined) {
        // An SDK without client hooks: flush is the best confirmation there is.
        if (sentry.getClient !== undefined && sentry.getClient() === undefined) {
          throw new SinkRejectedError(name, 'Sentry is not initialised (call Sentry.init with a DSN first)');
        }
        sentry.captureEvent!(sentryEvent(message), { event_id: eventId });
        const flushed = sentry.flush === undefined ? true : await sentry.flush(confirmTimeoutMs);
        if (!flushed) throw new SinkRejectedError(name, `Sentry did not flush within ${confirmTimeoutMs} ms`, { transient: true });
        return { ids: [eventId] };
      }
      const response = await new Promise<SentrySendResponse>((resolve, reject) => {
        const finish = () => {
          clearTimeout(timer);
          context.signal.removeEventListener('abort', onAbort);
          waiters.delete(eventId);
        };
        const timer = setTimeout(() => {
          finish();
          reject(
            new SinkRejectedError(
              name,
              `no answer from Sentry within ${confirmTimeoutMs} ms (dropped by beforeSend, rate limited by the SDK, or unreachable)`,
              { transient: true },
            ),
          );
        }, confirmTimeoutMs);
        const onAbort = () => {
          finish();
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller's abort reason, passed through untouched
          reject(context.signal.reason);
        };
        context.signal.addEventListener('abort', onAbort, { once: true });
        waiters.set(eventId, (answer) => {
          finish();
          resolve(answer);
        });
        try {
          sentry.captureEvent!(sentryEvent(message), { event_id: eventId });
        } catch (error) {
          finish();
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the SDK's own throw, passed through untouched
          reject(error);
        }
      });
      const status = response.statusCode;
      if (status === undefined) {
        throw new SinkRejectedError(name, 'Sentry could not be reached (or the SDK is holding events back after a rate limit)', { transient: true });
      }
      if (status >= 400) {
        const headers: Record<string, string> = {};
        for (const [key, value] of Object.entries(response.headers ?? {})) if (typeof value === 'string') headers[key.toLowerCase()] = value;
        throw new SinkRejectedError(name, `Sentry answered HTTP ${status}`, { status, headers });
      }
      return { ids: [eventId] };
    },
  };
}
