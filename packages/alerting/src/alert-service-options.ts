import type { BreakerRegistry, CircuitState, Logger } from '@hardening/core';
import type { AlertMessage, AlertResult, Severity } from './alert.js';
import type { Clock } from './clock.js';
import type { RouteTable } from './routing.js';
import type { SilenceInfo } from './silences.js';
import type { AckRecord } from './acknowledgements/acknowledgements.js';
import type { EscalationPolicy } from './escalation/escalation-policy.js';
import type { InhibitRule } from './inhibition/inhibit-rules.js';
import type { AlertSink } from './sinks/sink.js';
import type { AlertStore } from './store/alert-store.js';
import type { ClaimPath } from './claims/claim-gate.js';
import type { StoreState } from './claims/store-health.js';
import type { HistoryQueueState } from './history-writer.js';

/**
 * Retries and breaker of every remote sink call (each goes through `safeCall`, with one
 * circuit breaker per sink name).
 *
 * @example
 * ```ts
 * import type { SinkRetryOptions } from '@hardening/alerting';
 * // Tests: the same 3 attempts, without the real waits.
 * const fast: SinkRetryOptions = { initialDelayMs: 10, timeoutMs: 2000 };
 * ```
 */
export interface SinkRetryOptions {
  /**
   * Attempts per sink and alert, the first included.
   * @default 3
   */
  readonly attempts?: number;
  /**
   * Wait before the first retry; each next wait is `factor` times longer (1 s, then 2 s).
   * A provider's `Retry-After` replaces a shorter wait.
   * @default 1000
   */
  readonly initialDelayMs?: number;
  /**
   * Growth of the waits.
   * @default 2
   */
  readonly factor?: number;
  /**
   * Longest wait; a `Retry-After` asking for more ends the retries (and the alert falls back).
   * @default 30_000
   */
  readonly maxDelayMs?: number;
  /**
   * Timeout of one attempt.
   * @default 10_000
   */
  readonly timeoutMs?: number;
  /**
   * The breaker per sink (counting only transient failures), or `false`. An open breaker
   * sends alerts straight to the fallback instead of waiting for a dead provider.
   * @default { failureThreshold: 3, cooldownMs: 30_000 }
   */
  readonly breaker?: { readonly failureThreshold?: number; readonly cooldownMs?: number } | false;
}

/**
 * Per-type settings.
 *
 * @example
 * ```ts
 * import type { AlertTypeOptions } from '@hardening/alerting';
 * const stuck: AlertTypeOptions = { groupWaitMs: 30_000, groupTitle: (alerts) => `${alerts.length} clients stuck` };
 * ```
 */
export interface AlertTypeOptions {
  /** Routes for this type, per severity (others use the service's). */
  readonly routes?: RouteTable | undefined;
  /** Suppression window for this type. @default the service's `windowMs` */
  readonly windowMs?: number | undefined;
  /** Escalation delay for this type's MEDIUM alerts, or `false` to never escalate them. @default the service's */
  readonly escalateAfterMs?: number | false | undefined;
  /**
   * This type's escalation policy (replacing the service's), or `false` to never escalate it.
   * @default the service's `escalation`
   */
  readonly escalation?: EscalationPolicy | false | undefined;
  /**
   * Aggregation: alerts of this type raised within this wait of the first go out as one
   * message ("3 clients stuck: ..."), like Alertmanager's `group_wait`. Each still has its
   * own dedup key. The callers' promises resolve when the group is sent.
   * @default undefined (no aggregation)
   */
  readonly groupWaitMs?: number | undefined;
  /** Title of an aggregated message. @default `${n} ${type} alerts: a, b, c` */
  readonly groupTitle?: ((members: readonly AlertMessage[]) => string) | undefined;
}

/**
 * Passed to {@link AlertServiceOptions.onResult}.
 *
 * @example
 * ```ts
 * createAlertService({ onResult: ({ result, message }) => metrics.increment(`alerts.${result.status}`, { type: message.type }) });
 * ```
 */
export interface AlertResultEvent {
  readonly result: AlertResult;
  readonly message: AlertMessage;
}

/**
 * Options for {@link createAlertService}. Every field is optional: with none, alerts go to
 * the log only (and the status says so).
 *
 * @example
 * ```ts
 * import { createAlertService, createRedisAlertStore } from '@hardening/alerting';
 * const alerts = createAlertService({
 *   sinks: [sms, slack, sentry],
 *   store: createRedisAlertStore({ redis }),
 *   routes: { HIGH: ['sms', 'slack'], MEDIUM: ['slack'], LOW: ['log'] },
 *   types: { CLIENT_STUCK: { groupWaitMs: 30_000 }, OPENAI_FAILURE: { windowMs: 3_600_000 } },
 * });
 * ```
 */
export interface AlertServiceOptions {
  /** Where alerts go. A log sink named `log` is always added (or yours, if you pass one named `log`). */
  readonly sinks?: readonly AlertSink[] | undefined;
  /**
   * Dedup claims, open alerts, history and SMS receipts. Use Redis or PostgreSQL when
   * several instances run: dedup then holds across them.
   * @default createMemoryAlertStore()
   */
  readonly store?: AlertStore | undefined;
  /**
   * Sinks per severity.
   * @default { HIGH: ['sms', 'slack'], MEDIUM: ['slack'], LOW: ['log'] } (sinks not configured are skipped)
   */
  readonly routes?: RouteTable | undefined;
  /** Per-type routes, windows, escalation and aggregation. */
  readonly types?: Readonly<Record<string, AlertTypeOptions>> | undefined;
  /**
   * Where an alert goes when a sink of its route fails, in order (each failed sink is
   * replaced by the next unused one; the log is always the last resort).
   * @default the sinks in the order given
   */
  readonly fallbackOrder?: readonly string[] | undefined;
  /**
   * Suppression window: one delivery per (type, resource) per window.
   * @default 21_600_000 (6 hours)
   */
  readonly windowMs?: number | undefined;
  /**
   * An unresolved MEDIUM alert is escalated to HIGH (sent on the HIGH route) after this
   * long, or never with `false`.
   * @default 43_200_000 (12 hours)
   */
  readonly escalateAfterMs?: number | false | undefined;
  /**
   * The escalation policy: steps (after how long, to which sinks, at what severity),
   * each fired once fleet-wide, stopped by an acknowledgement or a resolve. Replaces the
   * default policy (`escalateAfterMs`) for every type without a policy of its own;
   * `false` turns escalation off.
   * @default undefined (the default policy: MEDIUM to HIGH after `escalateAfterMs`)
   * @example
   * ```ts
   * createAlertService({ sinks, store, escalation: { steps: [{ afterMs: 10 * 60_000, sinks: ['slack'] }, { afterMs: 30 * 60_000, sinks: ['sms'] }] } });
   * ```
   */
  readonly escalation?: EscalationPolicy | false | undefined;
  /**
   * An acknowledgement lapses after this long if the alert was not resolved (escalation
   * then resumes with the next step due).
   * @default 86_400_000 (24 hours)
   */
  readonly ackTtlMs?: number | undefined;
  /**
   * An alert not raised again for this long is considered gone: it is not escalated.
   * @default 86_400_000 (24 hours)
   */
  readonly staleAfterMs?: number | undefined;
  /**
   * Inhibition: while a HIGH alert is open on a resource, MEDIUM and LOW alerts on the
   * same resource are muted (recorded as `inhibited`).
   * @default true
   */
  readonly inhibit?: boolean | undefined;
  /**
   * Inhibition rules (Alertmanager-like: source matcher, target matcher, equal labels),
   * replacing the default rule (a HIGH alert mutes MEDIUM and LOW ones on the same
   * resource; include {@link defaultInhibitRule} to keep it). Sources are the delivered,
   * unresolved alerts of the fleet, inside their suppression window.
   * @default [defaultInhibitRule] (answered by the store's own query)
   * @example
   * ```ts
   * createAlertService({ sinks, store, inhibitRules: [defaultInhibitRule, { source: { type: 'DB_DOWN' }, target: { type: ['QUEUE_BACKLOG'] } }] });
   * ```
   */
  readonly inhibitRules?: readonly InhibitRule[] | undefined;
  /** Retries, timeout and breaker of remote sink calls. */
  readonly retry?: SinkRetryOptions | undefined;
  /**
   * How long an alert SMS may wait for its `delivered` receipt before it counts as failed
   * and the alert falls back (only for SMS sent with a status callback).
   * @default 300_000 (5 minutes)
   */
  readonly confirmTimeoutMs?: number | undefined;
  /**
   * How often this instance retries due pending pages, checks escalations and overdue SMS
   * receipts, watches itself and prunes the history, or `false` to call
   * {@link AlertService.runMaintenance} yourself (from a {@link RuntimeMonitor}, say). Safe
   * on every instance: the store decides each item once.
   * @default 10_000
   */
  readonly maintenanceIntervalMs?: number | false | undefined;
  /**
   * History kept.
   * @default 2_592_000_000 (30 days)
   */
  readonly historyRetentionMs?: number | undefined;
  /**
   * How long one store call (a dedup claim above all) may take. A slow store is waited
   * for: set this well above the store's p99 under load. Only a store known down
   * (connection refused or reset, breaker open, `AlertStoreUnavailableError`) or
   * silent for this long makes a claim fall back: to `durableStore`, then to the
   * designated-sender rule (see `designatedSender`).
   * @default 20_000
   */
  readonly storeTimeoutMs?: number | undefined;
  /**
   * The breaker of each store (`store`, `durableStore`): after `failureThreshold` failed
   * calls in a row (a store known down, or silent past `storeTimeoutMs`) it opens, and
   * claims fall back at once instead of waiting; `cooldownMs` later one probe call is let
   * through, and the store is used again once it answers. A shorter cooldown finds a
   * restarted store sooner at the cost of more probes against a dead one.
   * @default { failureThreshold: 5, cooldownMs: 10_000 }
   * @example
   * ```ts
   * const alerts = createAlertService({ store, durableStore, storeBreaker: { cooldownMs: 30_000 } });
   * ```
   */
  readonly storeBreaker?: StoreBreakerOptions | undefined;
  /**
   * A store call taking this long marks the store `slow` in the status (it is still
   * waited for).
   * @default 2000
   */
  readonly storeSlowMs?: number | undefined;
  /**
   * A second, durable store (PostgreSQL through {@link createPrismaAlertStore} under a
   * Redis `store`). It owns the history, the pending-page queue and SMS receipts, so
   * they survive a Redis restart; and it takes the dedup claims while `store` is down
   * (a claim won in `store` is confirmed here, so claims taken during the outage hold).
   * @default undefined (`store` owns everything)
   */
  readonly durableStore?: AlertStore | undefined;
  /**
   * What happens when every store is down: `true` on exactly one instance of the fleet
   * (it delivers, dedup in its memory) and `false` on the others (they queue alerts in
   * memory and claim them when a store answers again): at most one page per alert and
   * window. Unset: every instance delivers with dedup in its own memory (at most one page
   * per instance).
   * @default undefined
   */
  readonly designatedSender?: boolean | undefined;
  /**
   * The pending-page queue: an alert no sink took is retried after `initialDelayMs`,
   * then `factor` times longer each time up to `maxDelayMs`, only to the sinks not yet
   * reached, until delivered or `expireAfterMs` after its first failure ("ALERT LOST").
   * @default { initialDelayMs: 5000, factor: 2, maxDelayMs: 30_000, expireAfterMs: 21_600_000 }
   */
  readonly pendingRetry?:
    { readonly initialDelayMs?: number; readonly factor?: number; readonly maxDelayMs?: number; readonly expireAfterMs?: number } | undefined;
  /**
   * A page pending this long raises `ALERTING_PAGES_PENDING` (through whatever works,
   * the log at least), or `false`.
   * @default 300_000 (5 minutes)
   */
  readonly pendingAlertAfterMs?: number | false | undefined;
  /**
   * The kill switch.
   * @default env.ALERTS_DISABLED is `true`, `1` or `yes`
   */
  readonly disabled?: boolean | undefined;
  /**
   * Environment to read `ALERTS_DISABLED` from.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /**
   * Where logs go ("ALERT LOST" lines at error). A pino logger fits.
   * @default JSON lines on the console
   */
  readonly logger?: Logger | undefined;
  /**
   * Current time.
   * @default Date.now
   */
  readonly clock?: Clock | undefined;
  /**
   * Breakers of the sinks (`alert_sink:<name>`) and the store (`alert_store`). Pass
   * `getDefaultRegistry()` to show them with your other breakers.
   * @default a registry of its own
   */
  readonly registry?: BreakerRegistry | undefined;
  /**
   * Where the `ALERTS_DISABLED` start-up banner is written.
   * @default process.stderr
   */
  readonly banner?: ((text: string) => void) | undefined;
  /** Called with every result (metrics). A throwing hook is logged and ignored. */
  readonly onResult?: ((event: AlertResultEvent) => void) | undefined;
}

/**
 * The state of the alert system, for a health endpoint: `enabled: false` (with `reason`)
 * should make it report "degraded".
 *
 * @example
 * ```ts
 * const status = alerts.getAlertSystemStatus();
 * if (!status.enabled) console.warn(`alerts off: ${status.reason}`);
 * ```
 */
export interface AlertSystemStatus {
  /** False when alerts cannot reach a person: disabled, no remote sink, or closed. */
  readonly enabled: boolean;
  /** Why not enabled. */
  readonly reason?: string;
  /** Configured sinks, the log included. */
  readonly sinks: readonly string[];
  /** The effective default route per severity. */
  readonly routes: Readonly<Record<Severity, readonly string[]>>;
  /** The store's kind (`memory`, `redis`, `postgres`). */
  readonly store: string;
  /**
   * True when enabled and nothing below is wrong (`problems` is empty): the value for a
   * readiness check of the alerting itself.
   */
  readonly healthy: boolean;
  /** What is wrong, one line each: a store slow or down, a sink's breaker open, pages pending. */
  readonly problems: readonly string[];
  /** Whether the primary store is not known down (last call answered, or only slow). */
  readonly storeHealthy: boolean;
  /** Each store's state (`up`, `slow`, `down`) as this instance last saw it. */
  readonly stores: readonly StoreState[];
  /** The store that owns the history and the pending pages. */
  readonly historyStore: string;
  /**
   * History rows written behind the callers: `queued` (waiting, including rows kept
   * through a store outage), `dropped` (oldest first, beyond the queue's bound),
   * `failingSince` and `lastError` while the store refuses them.
   */
  readonly history: HistoryQueueState;
  /** How the last dedup claim was decided (`store`, `durable`, `designated`, `local`, `deferred`). */
  readonly claimedVia: ClaimPath;
  /** Pages no sink took yet, as last counted by maintenance. */
  readonly pending: { readonly count: number; readonly oldestAt?: string };
  /** Last alert delivered by a remote sink from this instance (ISO 8601). */
  readonly lastDeliveryAt?: string;
  /** Last sink failure in this instance (ISO 8601). */
  readonly lastFailureAt?: string;
  /** What failed last. */
  readonly lastFailure?: { readonly sink: string; readonly reason: string };
  /** Active silences. */
  readonly silences: readonly SilenceInfo[];
  /** Acknowledged alerts (fleet-wide, as read in the last maintenance round), newest first. */
  readonly acknowledged: readonly AckRecord[];
  /** Breaker state per sink. */
  readonly breakers: Readonly<Record<string, CircuitState>>;
}

/**
 * A function that ends a silence early; also tells the silence's id and end.
 *
 * @example
 * ```ts
 * const restore = alerts.silenceAlerts({ type: 'NIGHTLY_SYNC' });
 * console.log(restore.id, restore.until);
 * restore();
 * ```
 */
export interface RestoreSilence {
  (): void;
  readonly id: string;
  /** ISO 8601. */
  readonly until: string;
}

/**
 * What {@link AlertService.resolveAlert} takes.
 *
 * @example
 * ```ts
 * await alerts.resolveAlert({ type: 'DB_DOWN', resourceId: 'db1', message: 'Failover done.' });
 * ```
 */
export interface ResolveInput {
  readonly type: string;
  readonly resourceId?: string | undefined;
  /** Shown in the resolve notice. @default 'The condition cleared.' */
  readonly message?: string | undefined;
}

/**
 * A delivery receipt from a provider (Twilio status callback), as the service takes it.
 *
 * @example
 * ```ts
 * await alerts.handleDeliveryStatus({ deliveryId: 'SM0123', status: 'undelivered', errorCode: '30003', to: '+15551234567' });
 * ```
 */
export interface DeliveryStatusUpdate {
  /** Provider id (Twilio `MessageSid`). */
  readonly deliveryId: string;
  /** Provider status (`queued`, `sent`, `delivered`, `undelivered`, `failed`, ...). */
  readonly status: string;
  /** Provider error code (Twilio `ErrorCode`). */
  readonly errorCode?: string | undefined;
  /** The recipient, for the log (masked there). */
  readonly to?: string | undefined;
}

/**
 * What the service did with a {@link DeliveryStatusUpdate}.
 *
 * @example
 * ```ts
 * const outcome = await alerts.handleDeliveryStatus({ deliveryId: 'SM0123', status: 'delivered' });
 * if (outcome === 'unknown') console.warn('receipt for a message we do not track');
 * ```
 */
export type DeliveryStatusOutcome = 'confirmed' | 'fell_back' | 'ignored' | 'unknown';

/**
 * What {@link AlertService.runMaintenance} did.
 *
 * @example
 * ```ts
 * const { escalated, unconfirmed } = await alerts.runMaintenance();
 * ```
 */
export interface MaintenanceReport {
  /** MEDIUM alerts escalated to HIGH. */
  readonly escalated: number;
  /** SMS without a receipt in time (each fell back). */
  readonly unconfirmed: number;
  /** Whether history and idle records were pruned. */
  readonly pruned: boolean;
  /** Pending pages retried (or expired) this round. */
  readonly retried: number;
  /** Pages still pending after the round. */
  readonly pending: number;
  /** Claims won in memory while every store was down, written to a store this round. */
  readonly replayed: number;
}

/** The breaker of each alert store: see {@link AlertServiceOptions.storeBreaker}. */
export interface StoreBreakerOptions {
  /**
   * Failed store calls in a row that open the breaker.
   * @default 5
   */
  readonly failureThreshold?: number | undefined;
  /**
   * How long an open breaker refuses store calls before it lets one probe through.
   * @default 10_000
   */
  readonly cooldownMs?: number | undefined;
}
