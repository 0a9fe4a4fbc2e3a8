import type { Logger } from '@hardening/core';
import { alertTelemetry } from './telemetry.js';
import type { AlertMessage, Severity } from './alert.js';
import type { DeliveryReport } from './delivery.js';
import { describeError } from './delivery.js';
import { headline, scrubbedAlert } from './format.js';
import type { AlertStore, TrackedDelivery } from './store/alert-store.js';

/** The pseudo-sink under which pending pages sit in the store's delivery table. */
export const pendingSink = 'alerting.pending';

/** One alert (or group member) a page carries. */
export interface PageMember {
  readonly alertId: string;
  readonly type: string;
  readonly key: string;
  readonly severity: Severity;
  readonly resourceId: string | undefined;
}

/** What a pending page stores (as the delivery's JSON payload). */
export interface PendingPage {
  readonly message: AlertMessage;
  readonly members: readonly PageMember[];
  /** The sinks the page should reach (its route at first send). */
  readonly route: readonly string[];
  /** Sinks that already took it: never sent to again. */
  readonly reached: readonly string[];
  /** Attempts so far, the first send included. */
  readonly attempt: number;
  readonly firstFailedAt: number;
  /** When the page is given up ("ALERT LOST"). */
  readonly expiresAt: number;
  readonly lastReason: string;
  /** Whether the dedup key was released while pending (single alerts; groups keep their keys). */
  readonly released: boolean;
  /** Queued because every store was down and another instance is the designated sender. */
  readonly deferred?: boolean;
  /**
   * The rest of a page a person already has: the alert reached `reached`, and `route` holds
   * the sinks that failed and that no fallback replaced. It keeps the alert's key, is
   * dropped when the alert is acknowledged or resolved, and given up without "ALERT LOST".
   */
  readonly partial?: boolean;
}

/** Backoff of pending-page retries. */
export interface PendingBackoff {
  readonly initialDelayMs: number;
  readonly factor: number;
  readonly maxDelayMs: number;
}

/** The pending page id of an alert: one page per (type, key), so a newer occurrence replaces it. */
export function pendingId(message: Pick<AlertMessage, 'type' | 'key' | 'id'>, grouped: boolean): string {
  return grouped ? `pending:group:${message.id}` : `pending:${encodeURIComponent(message.type)}:${encodeURIComponent(message.key)}`;
}

/** The wait before attempt `attempt + 1`. */
export function pendingDelay(backoff: PendingBackoff, attempt: number): number {
  return Math.min(backoff.maxDelayMs, backoff.initialDelayMs * backoff.factor ** Math.max(0, attempt - 1));
}

/** What the pending queue needs from the service. */
export interface PendingPagesContext {
  readonly store: AlertStore;
  readonly call: <T>(fn: () => Promise<T>) => Promise<T>;
  readonly logger: Logger;
  readonly backoff: PendingBackoff;
  /** Holds the page's key again before a retry; false when another alert holds it (it supersedes the page). */
  readonly reclaim: (page: PendingPage, now: number) => Promise<boolean>;
  readonly deliver: (page: PendingPage) => Promise<DeliveryReport>;
  /** The page reached a person: mark delivered, record history. */
  readonly onDelivered: (page: PendingPage, report: DeliveryReport, now: number) => Promise<void>;
  /** The page failed again or expired: release keys, record history. */
  readonly onFailed: (page: PendingPage, now: number, expired: boolean, reason: string) => Promise<void>;
}

/**
 * The durable pending-page queue: an alert no sink delivered stays here (in the durable
 * store's delivery table, under the pseudo-sink {@link pendingSink}), and is retried with
 * backoff, only to the sinks not yet reached, until delivered or expired. Taking a due
 * page is atomic in the store, so one instance retries it. When the store itself is down,
 * pages wait in this process's memory and move to the store when it answers.
 */
export class PendingPages {
  /** Pages the store could not take (it was down): retried from here. */
  private readonly local = new Map<string, TrackedDelivery>();
  private counted = { count: 0, oldestAt: undefined as number | undefined };

  constructor(private readonly context: PendingPagesContext) {
    alertTelemetry.trackPending(this);
  }

  /** Pending pages and the oldest first failure, as last counted by maintenance. */
  get summary(): { readonly count: number; readonly oldestAt: number | undefined } {
    return this.counted;
  }

  /** Queues (or re-queues) a page; its next attempt after the backoff. */
  async enqueue(page: PendingPage, now: number): Promise<void> {
    const grouped = page.members.length > 1;
    const delivery: TrackedDelivery = {
      deliveryId: pendingId(page.message, grouped),
      alertId: page.message.id,
      type: page.message.type,
      key: page.message.key,
      sink: pendingSink,
      status: 'pending',
      payload: JSON.stringify(page),
      sentAt: page.firstFailedAt,
      deadlineAt: Math.min(page.expiresAt, now + pendingDelay(this.context.backoff, page.attempt)),
    };
    try {
      await this.context.call(() => this.context.store.trackDelivery(delivery));
      this.local.delete(delivery.deliveryId);
    } catch (error) {
      this.local.set(delivery.deliveryId, delivery);
      this.context.logger.error(
        { alert: scrubbedAlert(page.message), err: describeError(error) },
        `alerting: pending page kept in this process only (store unavailable): ${headline(page.message)}`,
      );
    }
    this.counted = { count: this.counted.count + 1, oldestAt: Math.min(this.counted.oldestAt ?? page.firstFailedAt, page.firstFailedAt) };
  }

  /** A newer occurrence of the alert is being delivered: the older page is superseded. */
  async cancel(message: Pick<AlertMessage, 'type' | 'key' | 'id'>, now: number): Promise<void> {
    const id = pendingId(message, false);
    this.local.delete(id);
    await this.context.call(() => this.context.store.settleDelivery({ deliveryId: id, status: 'delivered', at: now })).catch(() => undefined);
  }

  /** Retries one due page (taken atomically from the store, or from memory). */
  async retry(delivery: TrackedDelivery, now: number): Promise<void> {
    const page = JSON.parse(delivery.payload) as PendingPage;
    if (now >= page.expiresAt) {
      const reason = `pending since ${new Date(page.firstFailedAt).toISOString()}, ${page.attempt} attempts; last: ${page.lastReason}`;
      this.context.logger.error(
        { alert: scrubbedAlert(page.message), attempts: page.attempt },
        page.partial === true
          ? `ALERT NOT DELIVERED via ${page.route.join(', ')}: ${headline(page.message)} given up (${reason}); it reached ${page.reached.join(', ')}`
          : `ALERT LOST: ${headline(page.message)} expired undelivered (${reason}); it is only in this log`,
      );
      await this.context.onFailed(page, now, true, reason);
      return;
    }
    if (!(await this.context.reclaim(page, now))) return;
    const report = await this.context.deliver(page);
    if (report.ok) {
      await this.context.onDelivered(page, report, now);
      return;
    }
    const reason = report.failed.map((f) => `${f.sink}: ${f.reason}`).join('; ') || 'no sink took it';
    const next: PendingPage = { ...page, attempt: page.attempt + 1, reached: [...new Set([...page.reached, ...report.delivered])], lastReason: reason };
    await this.context.onFailed(next, now, false, reason);
    await this.enqueue(next, now);
  }

  /** Pages kept in memory that are due, and any the store can now take. */
  takeLocal(now: number): Promise<TrackedDelivery[]> {
    const due: TrackedDelivery[] = [];
    for (const [id, delivery] of this.local) {
      if (delivery.deadlineAt <= now) {
        this.local.delete(id);
        due.push(delivery);
      }
    }
    return Promise.resolve(due);
  }

  /** Recounts pending pages from the store (for status). */
  async recount(): Promise<void> {
    const list = this.context.store.listPendingDeliveries?.bind(this.context.store);
    let pages: TrackedDelivery[] = [...this.local.values()];
    if (list !== undefined) {
      try {
        pages = [...pages, ...(await this.context.call(() => list({ sink: pendingSink, limit: 1000 })))];
      } catch {
        return;
      }
    }
    let oldestAt: number | undefined;
    for (const page of pages) oldestAt = Math.min(oldestAt ?? page.sentAt, page.sentAt);
    this.counted = { count: pages.length, oldestAt };
  }

  /** The pages in the store (for the admin view). */
  async list(limit = 100): Promise<PendingPage[]> {
    const list = this.context.store.listPendingDeliveries?.bind(this.context.store);
    const stored = list === undefined ? [] : await this.context.call(() => list({ sink: pendingSink, limit }));
    return [...this.local.values(), ...stored].slice(0, limit).map((d) => JSON.parse(d.payload) as PendingPage);
  }
}
