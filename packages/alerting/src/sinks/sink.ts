import type { AlertMessage } from '../alert.js';

/**
 * What a sink gets with each attempt of a delivery.
 *
 * @example
 * ```ts
 * import type { SinkContext } from '@hardening/alerting';
 * const sentBefore = (context: SinkContext) => context.memo.get('sent') as string[] | undefined;
 * ```
 */
export interface SinkContext {
  /** Aborts when the attempt times out; pass it to `fetch` and SDKs that take one. */
  readonly signal: AbortSignal;
  /** The attempt, from 1 (a delivery is retried up to 3 times by default). */
  readonly attempt: number;
  /**
   * Survives between the attempts of one delivery, so a retried sink can skip what already
   * went out (the SMS sink records the numbers it reached, so a retry never texts them twice).
   */
  readonly memo: Map<string, unknown>;
}

/**
 * What a sink reports after it delivered.
 *
 * @example
 * ```ts
 * import type { SinkReceipt } from '@hardening/alerting';
 * const receipt: SinkReceipt = { ids: ['SM0123'], awaitingConfirmation: ['SM0123'] };
 * ```
 */
export interface SinkReceipt {
  /** Provider ids of what went out (Twilio message SIDs, Slack `ts`, Sentry event id). */
  readonly ids?: readonly string[] | undefined;
  /**
   * Ids whose delivery is only confirmed later by a provider callback (SMS sent with a
   * status callback). The service tracks them and falls back when they fail or time out.
   */
  readonly awaitingConfirmation?: readonly string[] | undefined;
  /** Something worth a warning although the delivery counts (one of two numbers refused). */
  readonly warnings?: readonly string[] | undefined;
}

/**
 * A destination for alerts. Ship your own by implementing `send`: throw when the alert did
 * not get through (an HTTP status on the error, as `status`, lets transient failures be
 * retried), return when it did.
 *
 * @example
 * ```ts
 * import type { AlertSink } from '@hardening/alerting';
 * const teamsSink: AlertSink = {
 *   name: 'teams',
 *   async send(message, { signal }) {
 *     const res = await fetch('https://example.webhook.office.com/...', {
 *       method: 'POST',
 *       headers: { 'content-type': 'application/json' },
 *       body: JSON.stringify({ text: `${message.severity}: ${message.title}` }),
 *       signal,
 *     });
 *     if (!res.ok) throw Object.assign(new Error(`Teams answered ${res.status}`), { status: res.status });
 *     return {};
 *   },
 * };
 * ```
 */
export interface AlertSink {
  /** Unique name, used in routes and logs (`sms`, `slack`, `sentry`, `pagerduty`, `log`). */
  readonly name: string;
  /**
   * `false` for sinks that cannot fail remotely (the log): they are called directly, not
   * through `safeCall`, and are never a fallback target before the log itself.
   * @default true
   */
  readonly remote?: boolean;
  /** Delivers one alert (or resolve notice). Throws when it did not get through. */
  send(message: AlertMessage, context: SinkContext): Promise<SinkReceipt | void>;
  /** Configuration problems worth a warning at start-up (e.g. a Slack client that retries for 30 minutes). */
  checkConfiguration?(): readonly string[];
}
