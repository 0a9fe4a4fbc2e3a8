import type { AlertMessage } from '../alert.js';
import { SinkRejectedError } from '../errors/sink-rejected-error.js';
import { scrubbedAlert } from '../format.js';
import type { AlertSink, SinkContext, SinkReceipt } from './sink.js';

/**
 * Options for {@link createWebhookSink}.
 *
 * @example
 * ```ts
 * import { createWebhookSink } from '@hardening/alerting';
 * const opsgenieLike = createWebhookSink({
 *   name: 'incidents',
 *   url: 'https://hooks.example.com/alerts',
 *   headers: { authorization: `Bearer ${process.env.INCIDENT_TOKEN}` },
 *   body: (alert) => ({ summary: alert.title, priority: alert.severity === 'HIGH' ? 'P1' : 'P3', alias: alert.dedupKey }),
 * });
 * ```
 */
export interface WebhookSinkOptions {
  /** Where to POST the alert (absolute http(s) URL). */
  readonly url: string;
  /**
   * Sink name, used in routes.
   * @default 'webhook'
   */
  readonly name?: string | undefined;
  /** Extra request headers (authorization). Never logged. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /**
   * Turns an alert into the JSON body.
   * @default the scrubbed alert (id, kind, type, severity, resourceId, key, title, message, context, links, occurredAt)
   */
  readonly body?: ((message: AlertMessage) => unknown) | undefined;
  /**
   * HTTP method.
   * @default 'POST'
   */
  readonly method?: 'POST' | 'PUT' | undefined;
  /**
   * The `fetch` to use.
   * @default globalThis.fetch
   */
  readonly fetch?: typeof fetch | undefined;
  /**
   * Reads a provider id out of a successful JSON answer (for the receipt).
   * @default none
   */
  readonly idFrom?: (response: unknown) => string | undefined;
}

/**
 * A generic HTTP webhook sink: POSTs each alert as JSON. A 2xx answer delivers it; a 408,
 * 429 or 5xx (or a network error) is retried, honouring `Retry-After`; any other status
 * fails at once and falls back.
 *
 * @param options - See {@link WebhookSinkOptions}.
 * @returns The sink.
 * @throws TypeError for a bad URL or option.
 * @example
 * ```ts
 * import { createAlertService, createWebhookSink } from '@hardening/alerting';
 * const alerts = createAlertService({
 *   sinks: [createWebhookSink({ url: 'https://hooks.example.com/alerts' })],
 *   routes: { HIGH: ['webhook'], MEDIUM: ['webhook'] },
 * });
 * ```
 */
export function createWebhookSink(options: WebhookSinkOptions): AlertSink {
  const { url, headers = {}, body = scrubbedAlert, method = 'POST', idFrom } = options ?? ({} as WebhookSinkOptions);
  if (typeof url !== 'string' || !/^https?:\/\/[^\s]+$/.test(url)) {
    throw new TypeError(`Expected \`url\` to be an absolute http(s) URL, got ${JSON.stringify(url)}.`);
  }
  if (typeof body !== 'function') throw new TypeError('Expected `body` to be a function (alert) => JSON.');
  if (method !== 'POST' && method !== 'PUT') throw new TypeError(`Expected \`method\` to be POST or PUT, got ${JSON.stringify(method)}.`);
  const doFetch = options.fetch ?? globalThis.fetch;
  if (typeof doFetch !== 'function') throw new TypeError('Expected `fetch` to be a function (Node >= 18 has one built in).');
  const name = options.name ?? 'webhook';
  const target = new URL(url);
  const where = `${target.origin}${target.pathname}`; // never the query string: it may carry a token

  return {
    name,
    remote: true,
    async send(message: AlertMessage, context: SinkContext): Promise<SinkReceipt> {
      const response = await doFetch(url, {
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
        body: JSON.stringify(body(message)),
        signal: context.signal,
      });
      const text = await response.text().catch(() => '');
      if (!response.ok) {
        const responseHeaders: Record<string, string> = {};
        response.headers.forEach((value, key) => {
          responseHeaders[key] = value;
        });
        throw new SinkRejectedError(name, `${where} answered HTTP ${response.status}`, { status: response.status, headers: responseHeaders });
      }
      let id: string | undefined;
      if (idFrom !== undefined) {
        try {
          id = idFrom(text === '' ? undefined : JSON.parse(text));
        } catch {
          id = undefined;
        }
      }
      return { ids: id !== undefined ? [id] : [] };
    },
  };
}
