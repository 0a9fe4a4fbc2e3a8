/**
 * How urgent an alert is. Default routing: `HIGH` to SMS and Slack, `MEDIUM` to Slack,
 * `LOW` to the log.
 *
 * @example
 * ```ts
 * import type { Severity } from '@hardening/alerting';
 * const severity: Severity = failures > 10 ? 'HIGH' : 'MEDIUM';
 * ```
 */
export type Severity = 'LOW' | 'MEDIUM' | 'HIGH';

/** Every severity, lowest first. */
export const severities: readonly Severity[] = Object.freeze(['LOW', 'MEDIUM', 'HIGH']);

/**
 * A link shown with the alert (Slack buttons, PagerDuty links).
 *
 * @example
 * ```ts
 * import type { AlertLink } from '@hardening/alerting';
 * const runbook: AlertLink = { text: 'Runbook', url: 'https://wiki.example.com/runbooks/twilio' };
 * ```
 */
export interface AlertLink {
  /** Button or link text. */
  readonly text: string;
  /** Absolute `http(s)` URL. */
  readonly url: string;
}

/**
 * What the app reports: one condition on one resource.
 *
 * @example
 * ```ts
 * import type { AlertInput } from '@hardening/alerting';
 * const alert: AlertInput = {
 *   type: 'PAYMENT_WEBHOOK_FAILING',
 *   severity: 'HIGH',
 *   resourceId: 'client_42',
 *   title: 'Stripe webhooks failing for Acme Plumbing',
 *   message: '5 consecutive signature failures in 10 minutes',
 *   context: { lastError: 'No signatures found matching the expected signature' },
 * };
 * ```
 */
export interface AlertInput {
  /**
   * Stable machine name of the condition, e.g. `OPENAI_FAILURE`: letters, digits and
   * `_ . : -`, at most 100 characters. Routing, aggregation and stats go by type.
   */
  readonly type: string;
  /** How urgent. */
  readonly severity: Severity;
  /**
   * The thing affected (a client id, a phone number pool, a job name). Dedup is per
   * (type, resourceId): one delivery per pair per suppression window. Omit for
   * system-wide conditions (one key per type). At most 200 characters.
   */
  readonly resourceId?: string | undefined;
  /** One line a person reads first (SMS, Slack header). */
  readonly title: string;
  /** What happened and what to do. */
  readonly message: string;
  /**
   * Extra details for Slack, Sentry and the log (scrubbed of phone numbers, emails and
   * secrets before it leaves the process).
   */
  readonly context?: Readonly<Record<string, unknown>> | undefined;
  /** Links to dashboards or runbooks (at most 5 are shown). */
  readonly links?: readonly AlertLink[] | undefined;
}

/**
 * What a sink is asked to deliver.
 *
 * @example
 * ```ts
 * import type { AlertMessage } from '@hardening/alerting';
 * const isNotice = (message: AlertMessage) => message.kind === 'resolve';
 * ```
 */
export type AlertKind = 'alert' | 'escalation' | 'resolve';

/**
 * An alert as the sinks receive it: the input plus its identity. An aggregated message
 * (several alerts of one type within the group wait) carries them in `members`.
 *
 * @example
 * ```ts
 * import type { AlertSink } from '@hardening/alerting';
 * const printer: AlertSink = { name: 'printer', async send(message) { console.log(message.kind, message.dedupKey, message.title); } };
 * ```
 */
export interface AlertMessage {
  /** Unique id of this delivery (a UUID). */
  readonly id: string;
  /** `alert`, `escalation` (an unresolved MEDIUM raised to HIGH) or `resolve` (the condition cleared). */
  readonly kind: AlertKind;
  readonly type: string;
  readonly severity: Severity;
  readonly resourceId: string | undefined;
  /**
   * The dedup key within the type: the resource id, or `*` for a system-wide alert. The
   * pair (type, key) is unique in the store.
   */
  readonly key: string;
  /** `type/key`: the key external systems dedup on (PagerDuty's `dedup_key`). */
  readonly dedupKey: string;
  readonly title: string;
  readonly message: string;
  readonly context: Readonly<Record<string, unknown>> | undefined;
  readonly links: readonly AlertLink[];
  /** When the app raised it (ISO 8601). */
  readonly occurredAt: string;
  /** The alerts an aggregated message stands for (two or more), else `undefined`. */
  readonly members: readonly AlertMessage[] | undefined;
}

/**
 * What happened to an alert:
 * - `delivered`: at least one sink of its route (or a fallback) took it;
 * - `suppressed`: a duplicate of an alert already delivered in the suppression window;
 * - `silenced`: a silence matched it;
 * - `inhibited`: a HIGH alert is open on the same resource;
 * - `disabled`: alerts are switched off (`ALERTS_DISABLED`);
 * - `failed`: every remote sink failed; the alert waits in the pending-page queue and is
 *   retried (see `pendingUntil`); "ALERT LOST" is logged only when it expires undelivered;
 * - `resolved` / `not_active`: answers of {@link AlertService.resolveAlert};
 * - `invalid`: the input was rejected (see `reason`).
 *
 * @example
 * ```ts
 * const { status } = await alerts.sendCriticalAlert(alert);
 * if (status === 'failed') console.error('nobody was reached: check the ALERT LOST lines');
 * ```
 */
export type AlertStatus = 'delivered' | 'suppressed' | 'silenced' | 'inhibited' | 'disabled' | 'failed' | 'resolved' | 'not_active' | 'invalid';

/**
 * The answer of {@link AlertService.sendCriticalAlert}. Never thrown: the call always
 * resolves with one of these.
 *
 * @example
 * ```ts
 * const result = await alerts.sendCriticalAlert(alert);
 * console.log(result.status, result.deliveredTo, result.failedSinks, result.fellBack);
 * ```
 */
export interface AlertResult {
  readonly status: AlertStatus;
  /** Id of this alert, or of the alert it duplicates when `suppressed`. */
  readonly alertId: string;
  readonly type: string;
  readonly key: string;
  readonly severity: Severity;
  /** Sinks that accepted the alert (`log` included when it was used). */
  readonly deliveredTo: readonly string[];
  /** Sinks that failed after every attempt. */
  readonly failedSinks: readonly string[];
  /** Whether a sink outside the route (a fallback) was used. */
  readonly fellBack: boolean;
  /** Why it was not delivered, or what was unusual. */
  readonly reason?: string;
  /** How many alerts the message stood for, when aggregated. */
  readonly groupSize?: number;
  /** Provider ids (Twilio message SIDs) whose delivery receipt is still awaited. */
  readonly awaitingConfirmation?: readonly string[];
  /**
   * When no sink took the alert (`failed`): it waits in the pending-page queue and is
   * retried until this time (ISO 8601); "ALERT LOST" only if it is still undelivered then.
   */
  readonly pendingUntil?: string;
  /**
   * How the dedup claim was decided: `store`, `durable` (the durable store, while the
   * primary was down), `designated` or `local` (every store down: dedup in memory), or
   * `deferred` (every store down and not the designated sender: queued here).
   */
  readonly claimedVia?: 'store' | 'durable' | 'designated' | 'local' | 'deferred';
}
