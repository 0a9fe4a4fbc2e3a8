import type { Severity } from '../alert.js';

/**
 * Every outcome recorded in the alert history: `delivered`, `suppressed` (duplicate),
 * `silenced`, `inhibited`, `disabled`, `failed` (every remote sink failed, or an SMS was
 * not delivered), `resolved`, `escalated`, `confirmed` (an SMS delivery receipt),
 * `acknowledged` (escalation stopped by a person).
 *
 * @example
 * ```ts
 * const failed = (await store.history({ since: Date.now() - 3_600_000 })).filter((entry) => entry.outcome === 'failed');
 * ```
 */
export type AlertOutcome =
  'delivered' | 'suppressed' | 'silenced' | 'inhibited' | 'disabled' | 'failed' | 'resolved' | 'escalated' | 'confirmed' | 'acknowledged';

/**
 * A claim on (type, key) for one suppression window.
 *
 * @example
 * ```ts
 * const claim = await store.claim({ alertId: randomUUID(), type: 'DB_DOWN', key: 'db1', resourceId: 'db1', severity: 'HIGH', title: 'Database down', payload: '{}', now: Date.now(), windowMs: 6 * 3_600_000 });
 * ```
 */
export interface ClaimRequest {
  /** The new alert's id; it becomes the holder if the claim succeeds. */
  readonly alertId: string;
  readonly type: string;
  readonly key: string;
  readonly resourceId: string | undefined;
  readonly severity: Severity;
  readonly title: string;
  /** The alert as JSON (for escalation and resolve notices, possibly from another instance). */
  readonly payload: string;
  /** Epoch ms. */
  readonly now: number;
  /** The suppression window. */
  readonly windowMs: number;
}

/**
 * The answer to a claim.
 *
 * @example
 * ```ts
 * const { claimed, alertId, expiresAt } = await store.claim(request);
 * if (!claimed) console.log(`duplicate of ${alertId} until ${new Date(expiresAt).toISOString()}`);
 * ```
 */
export interface ClaimResult {
  /** True when this alert got the key: deliver it. False: a duplicate within the window. */
  readonly claimed: boolean;
  /** The alert holding the key (this one when claimed). */
  readonly alertId: string;
  /**
   * The severity to deliver with: `HIGH` when an escalated alert on the key is still
   * unresolved, else the request's.
   */
  readonly severity: Severity;
  /** When the key was first seen since it was last resolved (epoch ms). */
  readonly firstSeenAt: number;
  /** End of the holder's window (epoch ms). */
  readonly expiresAt: number;
  /** How often the key was raised since it was last resolved. */
  readonly occurrences: number;
}

/**
 * An alert that is open (claimed and not resolved).
 *
 * @example
 * ```ts
 * const record = await store.resolve({ type: 'DB_DOWN', key: 'db1', at: Date.now() });
 * if (record?.deliveredAt !== undefined) console.log('notify', record.sinks);
 * ```
 */
export interface ActiveAlertRecord {
  readonly alertId: string;
  readonly type: string;
  readonly key: string;
  readonly resourceId: string | undefined;
  readonly severity: Severity;
  readonly title: string;
  readonly payload: string;
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
  readonly expiresAt: number;
  readonly deliveredAt: number | undefined;
  /** Sinks the last delivery reached. */
  readonly sinks: readonly string[];
  readonly escalatedAt: number | undefined;
  readonly occurrences: number;
}

/**
 * One row of the append-only history.
 *
 * @example
 * ```ts
 * const last = await store.history({ since: Date.now() - 86_400_000, type: 'DB_DOWN', limit: 10 });
 * for (const entry of last) console.log(new Date(entry.at).toISOString(), entry.outcome, entry.sinks);
 * ```
 */
export interface AlertHistoryEntry {
  readonly alertId: string;
  readonly type: string;
  readonly key: string;
  readonly resourceId: string | undefined;
  readonly severity: Severity;
  readonly outcome: AlertOutcome;
  /** Sinks involved (delivered to, or failed). */
  readonly sinks: readonly string[];
  /** Why (scrubbed): the duplicate's holder, the silence, the error. */
  readonly detail: string | undefined;
  /** Epoch ms. */
  readonly at: number;
}

/**
 * A provider message whose delivery receipt is awaited (an alert SMS).
 *
 * @example
 * ```ts
 * const overdue = await store.takeOverdueDeliveries({ at: Date.now(), limit: 100 });
 * for (const delivery of overdue) console.log(delivery.deliveryId, delivery.sink, delivery.status); // 'expired'
 * ```
 */
export interface TrackedDelivery {
  /** The provider's id (Twilio message SID). */
  readonly deliveryId: string;
  readonly alertId: string;
  readonly type: string;
  readonly key: string;
  /** The sink that sent it. */
  readonly sink: string;
  /** `pending`, then `delivered`, `failed` or `expired` (no receipt in time). */
  readonly status: 'pending' | 'delivered' | 'failed' | 'expired';
  /** JSON: the alert and the sinks it already reached (for the fallback). */
  readonly payload: string;
  readonly sentAt: number;
  readonly deadlineAt: number;
}

/**
 * A count of history rows.
 *
 * @example
 * ```ts
 * const rows = await store.countOutcomes({ since: Date.now() - 86_400_000 }); // [{ type, severity, outcome, count }]
 * ```
 */
export interface OutcomeCount {
  readonly type: string;
  readonly severity: Severity;
  readonly outcome: AlertOutcome;
  readonly count: number;
}

/**
 * Where alert dedup claims, open alerts, history and awaited SMS receipts live. Every
 * method that decides something between app instances is atomic in the store: a claim,
 * a resolve, an escalation, a receipt settling, an overdue receipt being taken. Ship:
 * {@link createMemoryAlertStore} (one process), {@link createRedisAlertStore},
 * {@link createPrismaAlertStore} (PostgreSQL through Prisma).
 *
 * @example
 * ```ts
 * import { createAlertService, createRedisAlertStore } from '@hardening/alerting';
 * const store = createRedisAlertStore({ redis });
 * const alerts = createAlertService({ sinks, store });
 * ```
 */
export interface AlertStore {
  /** `memory`, `redis`, `postgres`, or your own. */
  readonly kind: string;
  /**
   * What the store holds its data in, when two store objects can be the same store (the
   * Redis store: host, port, db and prefix). The services of one process page an outage of
   * one store once (`ALERTING_STORE_UNAVAILABLE`); stores without it are told apart by object.
   * @default undefined (the store object is its identity)
   */
  readonly identity?: string;
  /**
   * Claims (type, key) for a window, atomically: exactly one of any number of concurrent
   * claims in the window wins. A key whose window ended, or that was resolved or released,
   * can be claimed again; so can a key held at a lower severity than the request's (a
   * condition that got worse is sent again, at its new severity). Every call, won or not, counts an occurrence and moves `lastSeenAt`.
   */
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /** Records that the holder `alertId` was delivered to `sinks`. */
  markDelivered(request: { type: string; key: string; alertId: string; at: number; sinks: readonly string[] }): Promise<void>;
  /** Frees the key held by `alertId` (its delivery failed), so the next occurrence alerts again. */
  release(request: { type: string; key: string; alertId: string; at: number }): Promise<void>;
  /**
   * Resolves the open alert on (type, key), atomically: of concurrent calls exactly one gets
   * the record; the others (and calls with nothing open) get `undefined`. The key can be
   * claimed again at once.
   */
  resolve(request: { type: string; key: string; at: number }): Promise<ActiveAlertRecord | undefined>;
  /** Whether an open HIGH alert (inside its window) exists on `resourceId`, other than (type, key). */
  hasOpenHigh(request: { resourceId: string; exceptType: string; exceptKey: string; at: number }): Promise<boolean>;
  /**
   * Open, delivered, not yet escalated MEDIUM alerts first seen at or before
   * `firstSeenBefore` and seen again at or after `lastSeenAfter`.
   */
  escalationCandidates(request: { firstSeenBefore: number; lastSeenAfter: number; limit: number }): Promise<ActiveAlertRecord[]>;
  /** Marks the open alert escalated (now HIGH), atomically: true for exactly one caller. */
  claimEscalation(request: { type: string; key: string; alertId: string; at: number }): Promise<boolean>;
  /** Appends one history row. */
  append(entry: AlertHistoryEntry): Promise<void>;
  /**
   * Appends many history rows in one round trip (optional: without it, rows are appended
   * one by one). A burst of duplicates is written in a few calls, not a thousand.
   */
  appendMany?(entries: readonly AlertHistoryEntry[]): Promise<void>;
  /** History rows at or after `since` (newest first), optionally of one type or key. */
  history(query: { since: number; type?: string; key?: string; limit?: number }): Promise<AlertHistoryEntry[]>;
  /** Counts history rows at or after `since` by type, severity and outcome. */
  countOutcomes(query: { since: number }): Promise<OutcomeCount[]>;
  /**
   * Starts awaiting a delivery receipt (or queues a pending page). A second call with the
   * same `deliveryId` replaces the first (a pending page re-queued for its next attempt).
   */
  trackDelivery(delivery: TrackedDelivery): Promise<void>;
  /**
   * Pending deliveries, oldest first, optionally of one sink (optional: status and the
   * admin view list pending pages with it).
   */
  listPendingDeliveries?(request: { sink?: string; limit: number }): Promise<TrackedDelivery[]>;
  /**
   * Settles a pending delivery as `delivered` or `failed`, atomically: returns the record
   * (with its new status) to the one caller that settled it, `undefined` otherwise.
   */
  settleDelivery(request: { deliveryId: string; status: 'delivered' | 'failed'; at: number }): Promise<TrackedDelivery | undefined>;
  /** Takes pending deliveries past their deadline (marking them `expired`), atomically. */
  takeOverdueDeliveries(request: { at: number; limit: number }): Promise<TrackedDelivery[]>;
  /** Deletes history older than `historyBefore` and settled receipts and closed alerts idle since `idleBefore`. */
  prune(request: { historyBefore: number; idleBefore: number }): Promise<void>;
}
