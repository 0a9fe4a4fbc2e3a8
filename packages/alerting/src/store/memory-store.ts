import type { Severity } from '../alert.js';
import type { ActiveAlertRecord, AlertHistoryEntry, AlertStore, ClaimRequest, ClaimResult, OutcomeCount, TrackedDelivery } from './alert-store.js';

const severityRank: Readonly<Record<Severity, number>> = { LOW: 0, MEDIUM: 1, HIGH: 2 };

interface Row {
  alertId: string;
  type: string;
  key: string;
  resourceId: string | undefined;
  severity: Severity;
  title: string;
  payload: string;
  firstSeenAt: number;
  lastSeenAt: number;
  claimedAt: number;
  expiresAt: number;
  deliveredAt: number | undefined;
  sinks: string[];
  escalatedAt: number | undefined;
  resolvedAt: number | undefined;
  occurrences: number;
}

/**
 * Options for {@link createMemoryAlertStore}.
 *
 * @example
 * ```ts
 * import { createMemoryAlertStore } from '@hardening/alerting';
 * const store = createMemoryAlertStore({ maxHistory: 10_000 });
 * ```
 */
export interface MemoryAlertStoreOptions {
  /**
   * History rows kept; the oldest go first.
   * @default 50_000
   */
  readonly maxHistory?: number;
}

function record(row: Row): ActiveAlertRecord {
  return {
    alertId: row.alertId,
    type: row.type,
    key: row.key,
    resourceId: row.resourceId,
    severity: row.severity,
    title: row.title,
    payload: row.payload,
    firstSeenAt: row.firstSeenAt,
    lastSeenAt: row.lastSeenAt,
    expiresAt: row.expiresAt,
    deliveredAt: row.deliveredAt,
    sinks: [...row.sinks],
    escalatedAt: row.escalatedAt,
    occurrences: row.occurrences,
  };
}

/**
 * An {@link AlertStore} in this process's memory: dedup holds within one process only and
 * nothing survives a restart. The default of `createAlertService`; use the Redis or
 * PostgreSQL store when several instances run.
 *
 * @param options - See {@link MemoryAlertStoreOptions}.
 * @returns The store.
 * @example
 * ```ts
 * import { createAlertService, createMemoryAlertStore } from '@hardening/alerting';
 * const alerts = createAlertService({ store: createMemoryAlertStore() });
 * ```
 */
export function createMemoryAlertStore(options: MemoryAlertStoreOptions = {}): AlertStore {
  const maxHistory = options.maxHistory ?? 50_000;
  if (!Number.isInteger(maxHistory) || maxHistory < 1) {
    throw new TypeError(`Expected \`maxHistory\` to be a positive integer, got ${String(maxHistory)}.`);
  }
  const rows = new Map<string, Row>();
  const history: AlertHistoryEntry[] = [];
  const deliveries = new Map<string, TrackedDelivery & { settledAt?: number }>();
  const id = (type: string, key: string) => `${type}\u0000${key}`;

  /* eslint-disable @typescript-eslint/require-await -- AlertStore's methods are async; these keep `async` so a throw is a rejection, as from the Redis and PostgreSQL stores */
  return {
    kind: 'memory',

    async claim(request: ClaimRequest): Promise<ClaimResult> {
      const { now } = request;
      const row = rows.get(id(request.type, request.key));
      if (row === undefined || row.resolvedAt !== undefined || row.expiresAt <= now || severityRank[request.severity] > severityRank[row.severity]) {
        const reopened = row === undefined || row.resolvedAt !== undefined;
        const next: Row = {
          alertId: request.alertId,
          type: request.type,
          key: request.key,
          resourceId: request.resourceId,
          severity: !reopened && row.escalatedAt !== undefined ? 'HIGH' : request.severity,
          title: request.title,
          payload: request.payload,
          firstSeenAt: reopened ? now : row.firstSeenAt,
          lastSeenAt: now,
          claimedAt: now,
          expiresAt: now + request.windowMs,
          deliveredAt: undefined,
          sinks: [],
          escalatedAt: reopened ? undefined : row.escalatedAt,
          resolvedAt: undefined,
          occurrences: reopened ? 1 : row.occurrences + 1,
        };
        rows.set(id(request.type, request.key), next);
        return {
          claimed: true,
          alertId: next.alertId,
          severity: next.severity,
          firstSeenAt: next.firstSeenAt,
          expiresAt: next.expiresAt,
          occurrences: next.occurrences,
        };
      }
      row.occurrences++;
      row.lastSeenAt = Math.max(row.lastSeenAt, now);
      return {
        claimed: false,
        alertId: row.alertId,
        severity: row.severity,
        firstSeenAt: row.firstSeenAt,
        expiresAt: row.expiresAt,
        occurrences: row.occurrences,
      };
    },

    async markDelivered({ type, key, alertId, at, sinks }) {
      const row = rows.get(id(type, key));
      if (row !== undefined && row.alertId === alertId) {
        row.deliveredAt = at;
        row.sinks = [...sinks];
      }
    },

    async release({ type, key, alertId, at }) {
      const row = rows.get(id(type, key));
      if (row !== undefined && row.alertId === alertId && row.resolvedAt === undefined) row.expiresAt = Math.min(row.expiresAt, at);
    },

    async resolve({ type, key, at }) {
      const row = rows.get(id(type, key));
      if (row === undefined || row.resolvedAt !== undefined) return undefined;
      row.resolvedAt = at;
      row.expiresAt = Math.min(row.expiresAt, at);
      return record(row);
    },

    async hasOpenHigh({ resourceId, exceptType, exceptKey, at }) {
      for (const row of rows.values()) {
        if (
          row.resourceId === resourceId &&
          row.severity === 'HIGH' &&
          row.resolvedAt === undefined &&
          row.expiresAt > at &&
          !(row.type === exceptType && row.key === exceptKey)
        ) {
          return true;
        }
      }
      return false;
    },

    async escalationCandidates({ firstSeenBefore, lastSeenAfter, limit }) {
      return [...rows.values()]
        .filter(
          (row) =>
            row.severity === 'MEDIUM' &&
            row.resolvedAt === undefined &&
            row.deliveredAt !== undefined &&
            row.escalatedAt === undefined &&
            row.firstSeenAt <= firstSeenBefore &&
            row.lastSeenAt >= lastSeenAfter,
        )
        .sort((a, b) => a.firstSeenAt - b.firstSeenAt)
        .slice(0, limit)
        .map(record);
    },

    async claimEscalation({ type, key, at }) {
      const row = rows.get(id(type, key));
      if (row === undefined || row.resolvedAt !== undefined || row.escalatedAt !== undefined) return false;
      row.escalatedAt = at;
      row.severity = 'HIGH';
      return true;
    },

    async append(entry) {
      history.push(Object.freeze({ ...entry, sinks: [...entry.sinks] }));
      if (history.length > maxHistory) history.splice(0, history.length - maxHistory);
    },

    async appendMany(entries) {
      for (const entry of entries) history.push(Object.freeze({ ...entry, sinks: [...entry.sinks] }));
      if (history.length > maxHistory) history.splice(0, history.length - maxHistory);
    },

    async history({ since, type, key, limit = 1000 }) {
      return history
        .filter((entry) => entry.at >= since && (type === undefined || entry.type === type) && (key === undefined || entry.key === key))
        .map((entry, index) => ({ entry, index }))
        .sort((a, b) => b.entry.at - a.entry.at || b.index - a.index)
        .slice(0, limit)
        .map(({ entry }) => entry);
    },

    async countOutcomes({ since }) {
      const counts = new Map<string, OutcomeCount>();
      for (const entry of history) {
        if (entry.at < since) continue;
        const k = `${entry.type}\u0000${entry.severity}\u0000${entry.outcome}`;
        const previous = counts.get(k);
        counts.set(k, { type: entry.type, severity: entry.severity, outcome: entry.outcome, count: (previous?.count ?? 0) + 1 });
      }
      return [...counts.values()];
    },

    async trackDelivery(delivery) {
      deliveries.set(delivery.deliveryId, { ...delivery });
    },

    async listPendingDeliveries({ sink, limit }) {
      return [...deliveries.values()]
        .filter((d) => d.status === 'pending' && (sink === undefined || d.sink === sink))
        .sort((a, b) => a.sentAt - b.sentAt)
        .slice(0, limit)
        .map(({ settledAt: _settledAt, ...rest }) => rest);
    },

    async settleDelivery({ deliveryId, status, at }) {
      const delivery = deliveries.get(deliveryId);
      if (delivery === undefined || delivery.status !== 'pending') return undefined;
      const settled = { ...delivery, status, settledAt: at };
      deliveries.set(deliveryId, settled);
      const { settledAt: _settledAt, ...out } = settled;
      return out;
    },

    async takeOverdueDeliveries({ at, limit }) {
      const out: TrackedDelivery[] = [];
      for (const delivery of deliveries.values()) {
        if (out.length >= limit) break;
        if (delivery.status === 'pending' && delivery.deadlineAt <= at) {
          const expired = { ...delivery, status: 'expired' as const, settledAt: at };
          deliveries.set(delivery.deliveryId, expired);
          const { settledAt: _settledAt, ...rest } = expired;
          out.push(rest);
        }
      }
      return out;
    },

    async prune({ historyBefore, idleBefore }) {
      let keep = 0;
      for (const entry of history) if (entry.at >= historyBefore) history[keep++] = entry;
      history.length = keep;
      for (const [k, delivery] of deliveries) if (delivery.status !== 'pending' && (delivery.settledAt ?? delivery.sentAt) < idleBefore) deliveries.delete(k);
      for (const [k, row] of rows) if (row.lastSeenAt < idleBefore && (row.resolvedAt !== undefined || row.expiresAt <= idleBefore)) rows.delete(k);
    },
  };
  /* eslint-enable @typescript-eslint/require-await */
}
