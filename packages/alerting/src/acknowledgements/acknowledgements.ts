import type { Severity } from '../alert.js';
import { alertKeyOf } from '../alert-message.js';
import { describeError } from '../delivery.js';
import type { AlertRuntime } from '../runtime.js';
import { ackCode } from './ack-code.js';

/**
 * The pseudo-sink under which acknowledgements sit in the durable store's delivery table:
 * one row per acknowledged alert (type, key), pending until it expires, settled when the
 * alert is resolved. Every instance reads them from there.
 */
export const ackSink = 'alerting.ack';

/**
 * The pseudo-sink of the index of acknowledgeable alerts: one row per delivered alert
 * (type, key), written when it is delivered (before the caller's promise resolves, so any
 * instance finds it at once, unlike the write-behind history), settled when resolved.
 */
export const ackableSink = 'alerting.ackable';

/** A delivered, unresolved alert, as indexed (what can be acknowledged, and what can inhibit). */
export interface Ackable {
  readonly alertId: string;
  readonly type: string;
  readonly key: string;
  readonly severity: Severity;
  readonly resourceId: string | undefined;
  /** Epoch ms of its delivery. */
  readonly at: number;
}

function ackableId(type: string, key: string): string {
  return `ackable:${encodeURIComponent(type)}:${encodeURIComponent(key)}`;
}

/**
 * Who acknowledged, and through what.
 *
 * @example
 * ```ts
 * await alerts.acknowledge(alertId, { by: 'alice', via: 'api' });
 * ```
 */
export interface AcknowledgeOptions {
  /** Who acknowledged (a user name; never a phone number: the SMS helper masks it). */
  readonly by: string;
  /**
   * The channel: `api`, `sms`, `slack`, or your own word.
   * @default 'api'
   */
  readonly via?: string | undefined;
}

/**
 * An acknowledgement, as stored and shown in the status.
 *
 * @example
 * ```ts
 * for (const ack of alerts.getAlertSystemStatus().acknowledged) console.log(ack.type, ack.by, ack.via, ack.at);
 * ```
 */
export interface AckRecord {
  /** The alert acknowledged (the holder of its key when it was acknowledged). */
  readonly alertId: string;
  readonly type: string;
  readonly key: string;
  readonly severity: Severity;
  /** The short code of the alert (what an SMS reply `ACK <code>` names). */
  readonly code: string;
  readonly by: string;
  readonly via: string;
  /** ISO 8601. */
  readonly at: string;
}

/**
 * What {@link AlertService.acknowledge} did: `acknowledged` (escalation stopped),
 * `already_acknowledged` (the first acknowledgement stands), or `not_found` (no open
 * alert matched: unknown id or code, or already resolved).
 *
 * @example
 * ```ts
 * const outcome = await alerts.acknowledge('7KQ2M', { by: 'alice' });
 * if (outcome.status === 'not_found') console.warn(outcome.reason);
 * ```
 */
export type AcknowledgeResult =
  { readonly status: 'acknowledged' | 'already_acknowledged'; readonly ack: AckRecord } | { readonly status: 'not_found'; readonly reason: string };

/**
 * Which alert to acknowledge: its id (from a result, a Slack button, the admin API), its
 * short code (from an SMS), or its type and resource.
 *
 * @example
 * ```ts
 * await alerts.acknowledge({ type: 'DB_DOWN', resourceId: 'db1' }, { by: 'alice' });
 * ```
 */
export type AckTarget = string | { readonly type: string; readonly resourceId?: string };

/** What {@link Acknowledgements} needs besides the runtime. */
export interface AcknowledgementsOptions {
  /** An acknowledgement lapses this long after it was made (if the alert was not resolved). */
  readonly ttlMs: number;
  /** How far back the history is searched for the alert an id or code names. */
  readonly lookbackMs: number;
  /** Writes this instance's queued history rows (the lookup reads the history). */
  readonly flushHistory: () => Promise<void>;
  /** Stops the escalation of the acknowledged alert. */
  readonly stopEscalation: (type: string, key: string, now: number) => Promise<void>;
}

/** The outcomes after which an alert is open and may be acknowledged. */
const openOutcomes = new Set(['delivered', 'escalated', 'failed']);

function ackId(type: string, key: string): string {
  return `ack:${encodeURIComponent(type)}:${encodeURIComponent(key)}`;
}

/**
 * Acknowledgements of alerts, shared by every instance through the durable store: an
 * acknowledged alert escalates no further (on any instance), the acknowledgement is
 * recorded in the history (`acknowledged`) and shown in the status until the alert is
 * resolved or the acknowledgement lapses.
 */
export class Acknowledgements {
  /** Acknowledgements known here (read from the store each maintenance round), by type and key. */
  private readonly known = new Map<string, AckRecord>();

  constructor(
    private readonly runtime: AlertRuntime,
    private readonly options: AcknowledgementsOptions,
  ) {}

  /**
   * Acknowledges an alert.
   *
   * @param target - Alert id, short code, or type and resource; `undefined`: the newest open alert.
   * @param options - Who and through what.
   * @returns What was done; rejects when the store cannot be read or written.
   */
  async acknowledge(target: AckTarget | undefined, options: AcknowledgeOptions): Promise<AcknowledgeResult> {
    const { runtime } = this;
    const now = runtime.clock.now();
    await this.refresh(now);
    const alert = await this.find(target, now);
    if (alert === undefined) {
      return { status: 'not_found', reason: target === undefined ? 'no open alert' : 'no open alert has this id or code (unknown, or already resolved)' };
    }
    const existing = this.known.get(`${alert.type}\u0000${alert.key}`);
    if (existing !== undefined) return { status: 'already_acknowledged', ack: existing };
    const ack: AckRecord = {
      alertId: alert.alertId,
      type: alert.type,
      key: alert.key,
      severity: alert.severity,
      code: ackCode(alert.type, alert.key),
      by: options.by,
      via: options.via ?? 'api',
      at: new Date(now).toISOString(),
    };
    // Two instances acknowledging the same alert at once both write: the effect (no
    // further escalation) is the same, and both acknowledgements are in the history.
    await runtime.durableCall(() =>
      runtime.durable.trackDelivery({
        deliveryId: ackId(ack.type, ack.key),
        alertId: ack.alertId,
        type: ack.type,
        key: ack.key,
        sink: ackSink,
        status: 'pending',
        payload: JSON.stringify(ack),
        sentAt: now,
        deadlineAt: now + this.options.ttlMs,
      }),
    );
    this.known.set(`${ack.type}\u0000${ack.key}`, ack);
    await this.options.stopEscalation(ack.type, ack.key, now);
    runtime.record({
      alertId: ack.alertId,
      type: ack.type,
      key: ack.key,
      resourceId: alert.resourceId,
      severity: ack.severity,
      outcome: 'acknowledged',
      sinks: [],
      detail: `by ${ack.by} via ${ack.via}`,
      at: now,
    });
    runtime.logger.warn(
      { alertId: ack.alertId, type: ack.type, by: ack.by, via: ack.via },
      `alert acknowledged by ${ack.by} via ${ack.via}: ${ack.type} (${ack.code}); escalation stopped`,
    );
    return { status: 'acknowledged', ack };
  }

  /**
   * Whether (type, key) is acknowledged, as last read (see {@link Acknowledgements.refresh}).
   *
   * @param type - Alert type.
   * @param key - Alert key.
   * @returns True when acknowledged.
   */
  has(type: string, key: string): boolean {
    return this.known.has(`${type}\u0000${key}`);
  }

  /** Reads every acknowledgement from the store (once per maintenance round). A failure keeps the last read. */
  async refresh(now: number): Promise<void> {
    const list = this.runtime.durable.listPendingDeliveries?.bind(this.runtime.durable);
    if (list === undefined) return;
    try {
      const rows = await this.runtime.durableCall(() => list({ sink: ackSink, limit: 1000 }));
      this.known.clear();
      for (const row of rows) {
        if (row.deadlineAt <= now) continue;
        const ack = JSON.parse(row.payload) as AckRecord;
        this.known.set(`${ack.type}\u0000${ack.key}`, ack);
      }
    } catch (error) {
      this.runtime.logger.warn({ err: describeError(error) }, 'alerting: reading acknowledgements failed; using the last ones read');
    }
  }

  /**
   * An alert was delivered: index it so an acknowledgement on any instance finds it.
   * A failure is logged (the history is searched then).
   */
  async remember(alert: { id: string; type: string; key: string; severity: Severity; resourceId: string | undefined }, now: number): Promise<void> {
    if (alert.type.startsWith('ALERTING_') || this.runtime.durable.listPendingDeliveries === undefined) return;
    const row: Ackable = { alertId: alert.id, type: alert.type, key: alert.key, severity: alert.severity, resourceId: alert.resourceId, at: now };
    await this.runtime
      .durableCall(() =>
        this.runtime.durable.trackDelivery({
          deliveryId: ackableId(alert.type, alert.key),
          alertId: alert.id,
          type: alert.type,
          key: alert.key,
          sink: ackableSink,
          status: 'pending',
          payload: JSON.stringify(row),
          sentAt: now,
          deadlineAt: now + this.options.lookbackMs,
        }),
      )
      .catch((error) =>
        this.runtime.logger.warn(
          { type: alert.type, err: describeError(error) },
          'alerting: could not index the alert for acknowledgement (store unavailable)',
        ),
      );
  }

  /**
   * Delivered, unresolved alerts of the fleet, newest first (rejects when the store cannot
   * be read; empty when it cannot list).
   *
   * @param now - Current time.
   * @returns The index rows.
   */
  async openAlerts(now: number): Promise<Ackable[]> {
    const { durable } = this.runtime;
    const list = durable.listPendingDeliveries?.bind(durable);
    if (list === undefined) return [];
    const rows = await this.runtime.durableCall(() => list({ sink: ackableSink, limit: 1000 }));
    return rows
      .filter((row) => row.deadlineAt > now)
      .map((row) => JSON.parse(row.payload) as Ackable)
      .sort((a, b) => b.at - a.at);
  }

  /** The alert was resolved: its acknowledgement and its index row end with it. */
  async clear(type: string, key: string, now: number): Promise<void> {
    this.known.delete(`${type}\u0000${key}`);
    for (const deliveryId of [ackId(type, key), ackableId(type, key)]) {
      await this.runtime.durableCall(() => this.runtime.durable.settleDelivery({ deliveryId, status: 'delivered', at: now })).catch(() => undefined);
    }
  }

  /** Acknowledgements known here, newest first (for the status). */
  list(): AckRecord[] {
    return [...this.known.values()].sort((a, b) => b.at.localeCompare(a.at));
  }

  /**
   * The open alert a target names: from the index of delivered alerts (newest first),
   * else from the history (an alert resolved after it was delivered is not open).
   */
  private async find(target: AckTarget | undefined, now: number): Promise<Ackable | undefined> {
    let matches: (row: { alertId: string; type: string; key: string }) => boolean;
    // A bare "ACK" means the newest open alert nobody acknowledged yet.
    if (target === undefined) matches = (row) => !this.has(row.type, row.key);
    else if (typeof target === 'object') {
      const key = alertKeyOf(target.resourceId);
      matches = (row) => row.type === target.type && row.key === key;
    } else if (/^[A-Za-z0-9]{4,8}$/.test(target)) {
      const code = target.toUpperCase();
      matches = (row) => ackCode(row.type, row.key) === code;
    } else {
      matches = (row) => row.alertId === target;
    }
    const found = (await this.openAlerts(now)).find(matches);
    if (found !== undefined) return found;
    // Alerts delivered before this index existed, or by a store without listing: the history.
    await this.options.flushHistory();
    const { durable } = this.runtime;
    const rows = await this.runtime.durableCall(() => durable.history({ since: now - this.options.lookbackMs, limit: 5000 }));
    const resolved = new Set<string>();
    for (const row of rows) {
      const id = `${row.type}\u0000${row.key}`;
      if (row.outcome === 'resolved') resolved.add(id);
      else if (openOutcomes.has(row.outcome) && !resolved.has(id) && !row.type.startsWith('ALERTING_') && matches(row)) {
        return { alertId: row.alertId, type: row.type, key: row.key, severity: row.severity, resourceId: row.resourceId, at: row.at };
      }
    }
    return undefined;
  }
}
