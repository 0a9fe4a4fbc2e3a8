import { hostname } from 'node:os';
import type { AlertMessage } from '../alert.js';
import { displayResource, headline, scrubbedAlert, truncate } from '../format.js';
import type { AlertSink } from './sink.js';
import { createWebhookSink } from './webhook-sink.js';

/**
 * Options for {@link createPagerDutySink}.
 *
 * @example
 * ```ts
 * import { createPagerDutySink } from '@hardening/alerting';
 * const pagerduty = createPagerDutySink({ routingKey: process.env.PAGERDUTY_ROUTING_KEY!, source: 'sms-assistant-prod' });
 * ```
 */
export interface PagerDutySinkOptions {
  /** The integration's routing key (32 characters), from an Events API v2 integration. */
  readonly routingKey: string;
  /**
   * Events API endpoint (EU accounts: `https://events.eu.pagerduty.com/v2/enqueue`).
   * @default 'https://events.pagerduty.com/v2/enqueue'
   */
  readonly url?: string;
  /**
   * `payload.source`: the system the alert is about.
   * @default os.hostname()
   */
  readonly source?: string;
  /**
   * Sink name, used in routes.
   * @default 'pagerduty'
   */
  readonly name?: string;
  /**
   * The `fetch` to use.
   * @default globalThis.fetch
   */
  readonly fetch?: typeof fetch;
}

const pdSeverity = { HIGH: 'critical', MEDIUM: 'warning', LOW: 'info' } as const;

/**
 * The PagerDuty Events API v2 body for an alert: `trigger` with the alert's dedup key
 * (`type/resource`) for alerts and escalations, `resolve` with the same key for resolve
 * notices, so PagerDuty opens one incident per key and closes it when the condition clears.
 *
 * @param message - The alert.
 * @param routingKey - The integration's routing key.
 * @param source - `payload.source`.
 * @returns The JSON body.
 *
 * @example
 * ```ts
 * import { pagerDutyEvent } from '@hardening/alerting';
 * const body = pagerDutyEvent(message, process.env.PAGERDUTY_ROUTING_KEY!, 'api-prod'); // { routing_key, event_action: 'trigger', dedup_key, payload }
 * ```
 */
export function pagerDutyEvent(message: AlertMessage, routingKey: string, source: string): Record<string, unknown> {
  if (message.kind === 'resolve') {
    return { routing_key: routingKey, event_action: 'resolve', dedup_key: message.dedupKey };
  }
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: message.dedupKey,
    payload: {
      summary: truncate(headline(message), 1024),
      source,
      severity: pdSeverity[message.severity],
      timestamp: message.occurredAt,
      component: displayResource(message.resourceId),
      class: message.type,
      custom_details: scrubbedAlert(message),
    },
    links: message.links.map((link) => ({ href: link.url, text: link.text })),
  };
}

/**
 * A webhook sink preset for PagerDuty's Events API v2: alerts trigger an incident under
 * the alert's dedup key, resolve notices resolve it.
 *
 * @param options - See {@link PagerDutySinkOptions}.
 * @returns The sink.
 * @throws TypeError when the routing key is not 32 characters.
 * @example
 * ```ts
 * import { createAlertService, createPagerDutySink, createSlackSink } from '@hardening/alerting';
 * const alerts = createAlertService({
 *   sinks: [createPagerDutySink({ routingKey: process.env.PAGERDUTY_ROUTING_KEY! })],
 *   routes: { HIGH: ['pagerduty'] },
 * });
 * ```
 */
export function createPagerDutySink(options: PagerDutySinkOptions): AlertSink {
  const { routingKey, url = 'https://events.pagerduty.com/v2/enqueue', source = hostname(), name = 'pagerduty' } = options ?? ({} as PagerDutySinkOptions);
  if (typeof routingKey !== 'string' || routingKey.length !== 32) {
    throw new TypeError('Expected `routingKey` to be a 32-character PagerDuty Events API v2 routing key.');
  }
  if (typeof source !== 'string' || source === '') throw new TypeError('Expected `source` to be a non-empty string.');
  return createWebhookSink({
    url,
    name,
    fetch: options.fetch,
    body: (message) => pagerDutyEvent(message, routingKey, source),
    idFrom: (response) => (response as { dedup_key?: string } | undefined)?.dedup_key,
  });
}
