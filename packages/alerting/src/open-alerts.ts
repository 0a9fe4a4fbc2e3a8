import type { Severity } from './alert.js';
import { ackCode } from './acknowledgements/ack-code.js';
import type { Acknowledgements } from './acknowledgements/acknowledgements.js';
import type { PendingPages } from './pending-pages.js';
import type { AlertHistoryEntry, AlertOutcome, AlertStore } from './store/alert-store.js';

/**
 * An alert that waits for a person: delivered and neither acknowledged nor resolved
 * (`state: 'delivered'`), or not taken by any sink yet and retried from the pending-page
 * queue (`state: 'pending'`).
 *
 * @example
 * ```ts
 * for (const open of await alerts.listOpenAlerts()) console.log(open.code, open.type, open.state, open.sinks);
 * ```
 */
export interface OpenAlert {
  readonly alertId: string;
  readonly type: string;
  readonly key: string;
  readonly severity: Severity;
  readonly resourceId: string | undefined;
  /** Its title, when known (pending pages carry it; delivered alerts do not). */
  readonly title: string | undefined;
  /** The short code an SMS reply `ACK <code>` names; {@link AlertService.acknowledge} takes it too. */
  readonly code: string;
  /** `delivered`: a sink took it, nobody acknowledged it. `pending`: no sink took it yet. */
  readonly state: 'delivered' | 'pending';
  /** When it was delivered (ISO 8601); undefined while pending. */
  readonly deliveredAt: string | undefined;
  /** When the first delivery failed (ISO 8601), for a pending page. */
  readonly pendingSince: string | undefined;
  /** Sinks that took it (for a pending page: those reached so far, never sent to again). */
  readonly sinks: readonly string[];
  /** Why the last attempt failed (scrubbed), for a pending page. */
  readonly lastFailure: string | undefined;
  /** Whether {@link AlertService.acknowledge} can acknowledge it (the alerting's own `ALERTING_*` alerts cannot). */
  readonly acknowledgeable: boolean;
}

/**
 * What happened to an alert at one sink, from the history: `delivered` (the sink took it),
 * `failed` (the sink refused it, or its SMS was reported undelivered), `confirmed` (a
 * delivery receipt came back).
 *
 * @example
 * ```ts
 * const [recent] = await alerts.recentAlerts({ limit: 1 });
 * for (const sink of recent?.sinks ?? []) console.log(sink.sink, sink.outcome, sink.receipt);
 * ```
 */
export interface SinkOutcome {
  readonly sink: string;
  readonly outcome: 'delivered' | 'failed' | 'confirmed';
  /** The receipt (provider message id) or the failure reason, scrubbed; undefined when the history has none. */
  readonly detail: string | undefined;
  /** When (ISO 8601). */
  readonly at: string;
}

/**
 * One recent alert, gathered from its history rows.
 *
 * @example
 * ```ts
 * const recent = await alerts.recentAlerts({ hours: 24, limit: 20 });
 * const lost = recent.filter((a) => a.outcome === 'failed');
 * ```
 */
export interface RecentAlert {
  readonly alertId: string;
  readonly type: string;
  readonly key: string;
  readonly severity: Severity;
  readonly resourceId: string | undefined;
  /** The last outcome recorded (`resolved`, `acknowledged`, `confirmed`, `delivered`, `failed`, ...). */
  readonly outcome: AlertOutcome;
  /** First and last history row of the alert (ISO 8601). */
  readonly firstAt: string;
  readonly lastAt: string;
  /** The latest outcome per sink, in the order the sinks first appear. */
  readonly sinks: readonly SinkOutcome[];
  /** Every history row of the alert in the period, oldest first. */
  readonly events: ReadonlyArray<{
    readonly outcome: AlertOutcome;
    readonly sinks: readonly string[];
    readonly detail: string | undefined;
    readonly at: string;
  }>;
}

/**
 * Options of {@link AlertService.recentAlerts}.
 *
 * @example
 * ```ts
 * await alerts.recentAlerts({ hours: 6, limit: 50, includeSuppressed: true });
 * ```
 */
export interface RecentAlertsOptions {
  /**
   * At most this many alerts, newest first (1 to 500).
   * @default 20
   */
  readonly limit?: number;
  /**
   * How far back (more than 0, at most 2160: 90 days).
   * @default 24
   */
  readonly hours?: number;
  /**
   * Whether duplicates suppressed by dedup are listed (a burst would crowd out the rest).
   * @default false
   */
  readonly includeSuppressed?: boolean;
}

/** What {@link AlertReports} reads. */
export interface AlertReportsContext {
  readonly durable: AlertStore;
  readonly durableCall: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Writes the queued (write-behind) history rows, so a read sees this instance's latest. */
  readonly flushHistory: () => Promise<void>;
  readonly now: () => number;
  readonly acks: Acknowledgements;
  readonly pending: PendingPages;
}

const defaults = { limit: 20, hours: 24, includeSuppressed: false } as const;
const hour = 3_600_000;
/** History rows read for one report: enough for hundreds of alerts with their events. */
const historyRows = 5000;
const sinkOutcomes: Partial<Record<AlertOutcome, SinkOutcome['outcome']>> = { delivered: 'delivered', failed: 'failed', confirmed: 'confirmed' };

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The read side of the alerting for consoles and admin APIs: alerts waiting for a person,
 * and recent alerts with what each sink did. Reads only (the durable store's acknowledgement
 * index, pending-page queue and history); never changes an alert.
 */
export class AlertReports {
  constructor(private readonly context: AlertReportsContext) {}

  /**
   * Alerts waiting for a person, newest first: pending pages (no sink took them), then
   * delivered alerts nobody acknowledged or resolved.
   *
   * @returns The open alerts; rejects when the durable store cannot be read.
   */
  async listOpenAlerts(): Promise<OpenAlert[]> {
    const { context } = this;
    const now = context.now();
    await context.acks.refresh(now);
    const [delivered, pages] = await Promise.all([context.acks.openAlerts(now), context.pending.list(100)]);
    const pendingRows: OpenAlert[] = [];
    const pendingKeys = new Set<string>();
    for (const page of pages) {
      for (const member of page.members) {
        if (context.acks.has(member.type, member.key)) continue;
        pendingKeys.add(`${member.type}\u0000${member.key}`);
        pendingRows.push({
          alertId: member.alertId,
          type: member.type,
          key: member.key,
          severity: member.severity,
          resourceId: member.resourceId,
          title: page.members.length === 1 ? page.message.title : undefined,
          code: ackCode(member.type, member.key),
          state: 'pending',
          deliveredAt: undefined,
          pendingSince: iso(page.firstFailedAt),
          sinks: page.reached,
          lastFailure: page.lastReason,
          acknowledgeable: !member.type.startsWith('ALERTING_'),
        });
      }
    }
    const unacknowledged = delivered.filter((row) => !context.acks.has(row.type, row.key) && !pendingKeys.has(`${row.type}\u0000${row.key}`));
    // The index row has no sinks: the `delivered` history row of the alert has them.
    const sinksOf = new Map<string, readonly string[]>();
    if (unacknowledged.length > 0) {
      await context.flushHistory();
      const since = Math.min(...unacknowledged.map((row) => row.at));
      const rows = await context.durableCall(() => context.durable.history({ since, limit: historyRows }));
      for (const row of rows) if (row.outcome === 'delivered' && !sinksOf.has(row.alertId)) sinksOf.set(row.alertId, row.sinks);
    }
    const deliveredRows: OpenAlert[] = unacknowledged.map((row) => ({
      alertId: row.alertId,
      type: row.type,
      key: row.key,
      severity: row.severity,
      resourceId: row.resourceId,
      title: undefined,
      code: ackCode(row.type, row.key),
      state: 'delivered',
      deliveredAt: iso(row.at),
      pendingSince: undefined,
      sinks: sinksOf.get(row.alertId) ?? [],
      lastFailure: undefined,
      acknowledgeable: true,
    }));
    pendingRows.sort((a, b) => b.pendingSince!.localeCompare(a.pendingSince!));
    return [...pendingRows, ...deliveredRows];
  }

  /**
   * Recent alerts from the history, newest first, each with its outcome per sink.
   *
   * @param options - See {@link RecentAlertsOptions}.
   * @returns The alerts; rejects when the durable store cannot be read.
   * @throws TypeError for a bad `limit` or `hours`.
   */
  async recentAlerts(options: RecentAlertsOptions = {}): Promise<RecentAlert[]> {
    const { limit, hours, includeSuppressed } = { ...defaults, ...options };
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw new TypeError(`Expected \`limit\` to be a whole number from 1 to 500, got ${String(limit)}.`);
    if (typeof hours !== 'number' || !Number.isFinite(hours) || hours <= 0 || hours > 24 * 90) {
      throw new TypeError(`Expected \`hours\` to be a number from 0 to 2160, got ${String(hours)}.`);
    }
    const { context } = this;
    await context.flushHistory();
    const since = context.now() - hours * hour;
    const rows = await context.durableCall(() => context.durable.history({ since, limit: historyRows }));
    // Rows come newest first: the first row seen of an alert fixes its place in the list.
    const byAlert = new Map<string, AlertHistoryEntry[]>();
    for (const row of rows) {
      if (!includeSuppressed && row.outcome === 'suppressed') continue;
      const list = byAlert.get(row.alertId);
      if (list !== undefined) list.push(row);
      else if (byAlert.size < limit) byAlert.set(row.alertId, [row]);
    }
    return [...byAlert.values()].map((newestFirst) => summarize([...newestFirst].reverse()));
  }
}

/**
 * The part of a row's detail about one sink: a failed delivery's detail reads
 * `slack: 503; twilio-sms: timeout; pending until ...`, a receipt's `twilio-sms SM... delivered`.
 */
function detailFor(sink: string, detail: string | undefined): string | undefined {
  if (detail === undefined) return undefined;
  const part = detail.split('; ').find((segment) => segment.startsWith(`${sink}: `) || segment.startsWith(`${sink} `));
  return part ?? detail;
}

/** One alert's rows (oldest first) as a {@link RecentAlert}. */
function summarize(rows: readonly AlertHistoryEntry[]): RecentAlert {
  const first = rows[0]!;
  const last = rows[rows.length - 1]!;
  const sinks = new Map<string, SinkOutcome>();
  for (const row of rows) {
    const outcome = sinkOutcomes[row.outcome];
    if (outcome === undefined) continue;
    for (const sink of row.sinks)
      sinks.set(sink, { sink, outcome, detail: outcome === 'delivered' ? undefined : detailFor(sink, row.detail), at: iso(row.at) });
  }
  return {
    alertId: first.alertId,
    type: first.type,
    key: first.key,
    // An escalation raises the severity: the latest row has the one delivered last.
    severity: last.severity,
    resourceId: first.resourceId,
    outcome: last.outcome,
    firstAt: iso(first.at),
    lastAt: iso(last.at),
    sinks: [...sinks.values()],
    events: rows.map((row) => ({ outcome: row.outcome, sinks: row.sinks, detail: row.detail, at: iso(row.at) })),
  };
}
