import type { AlertMessage } from '../alert.js';
import type { ClaimGate } from '../claims/claim-gate.js';
import type { DeliveryReport } from '../delivery.js';
import { headline, scrubbedAlert } from '../format.js';
import type { PendingBackoff, PendingPage } from '../pending-pages.js';
import { PendingPages, pendingSink } from '../pending-pages.js';
import type { AlertRuntime } from '../runtime.js';

/** What {@link PendingRetries} needs besides the runtime. */
export interface PendingRetriesOptions {
  readonly gate: ClaimGate;
  readonly backoff: PendingBackoff;
  /** A page is given up ("ALERT LOST") this long after its first failure. */
  readonly expireAfterMs: number;
  /** The service's suppression window (a type's own wins). */
  readonly windowMs: number;
  /** Told when a pending page finally reached a person (escalation timers start then). */
  readonly onPageDelivered?: (page: PendingPage, report: DeliveryReport, now: number) => Promise<void>;
}

/**
 * The retries of pages no sink took: builds new pages, and tells the durable
 * {@link PendingPages} queue how to reclaim a page's key, deliver it (only to sinks not yet
 * reached), and what to record when it is delivered, fails again, or expires.
 */
export class PendingRetries {
  /** The durable queue itself. */
  readonly queue: PendingPages;

  constructor(
    private readonly runtime: AlertRuntime,
    private readonly options: PendingRetriesOptions,
  ) {
    this.queue = new PendingPages({
      store: runtime.durable,
      call: (fn) => runtime.durableCall(fn),
      logger: runtime.logger,
      backoff: options.backoff,
      reclaim: (page, now) => this.reclaimPage(page, now),
      deliver: (page) => this.deliverPage(page),
      onDelivered: (page, report, now) => this.pageDelivered(page, report, now),
      onFailed: (page, now, expired, reason) => this.pageFailed(page, now, expired, reason),
    });
  }

  /** A new pending page for `outgoing` (standing for `members`). */
  newPage(outgoing: AlertMessage, members: readonly AlertMessage[], reached: readonly string[], now: number, reason: string): PendingPage {
    return {
      message: outgoing,
      members: members.map((m) => ({ alertId: m.id, type: m.type, key: m.key, severity: m.severity, resourceId: m.resourceId })),
      route: this.runtime.routeOf(outgoing.severity, outgoing.type),
      reached,
      attempt: 1,
      firstFailedAt: now,
      expiresAt: now + this.options.expireAfterMs,
      lastReason: reason,
      released: members.length === 1,
    };
  }

  /** Before a retry: hold the page's key again. False when another alert holds it (it supersedes the page). */
  private async reclaimPage(page: PendingPage, now: number): Promise<boolean> {
    if (!page.released) return true;
    const windowMs = this.runtime.types[page.message.type]?.windowMs ?? this.options.windowMs;
    const claim = await this.options.gate.claim(page.message, now, windowMs, page.deferred === true);
    if (claim.via === 'deferred') {
      await this.queue.enqueue({ ...page, lastReason: 'every alert store unavailable' }, now);
      return false;
    }
    if (!claim.claimed) {
      this.runtime.record({ ...page.members[0]!, outcome: 'suppressed', sinks: [], detail: `pending page superseded by ${claim.alertId}`, at: now });
    }
    return claim.claimed;
  }

  private async deliverPage(page: PendingPage): Promise<DeliveryReport> {
    const route = page.route.filter((name) => !page.reached.includes(name));
    return this.runtime.deliverer.deliver(page.message, route.length > 0 ? route : page.route, this.runtime.fallbackOrder, page.reached);
  }

  private async pageDelivered(page: PendingPage, report: DeliveryReport, now: number): Promise<void> {
    const { runtime } = this;
    runtime.noteReport(report, now);
    const late = Math.round((now - page.firstFailedAt) / 1000);
    runtime.logger.warn(
      { alert: scrubbedAlert(page.message), sinks: report.delivered, attempts: page.attempt + 1 },
      `alerting: pending page delivered ${late} s late: ${headline(page.message)}`,
    );
    for (const member of page.members) {
      await runtime.markDelivered(member, now, [...page.reached, ...report.delivered]);
      runtime.record({
        ...member,
        outcome: 'delivered',
        sinks: report.delivered,
        detail: `pending page, attempt ${page.attempt + 1}, ${late} s after the first failure`,
        at: now,
      });
    }
    await this.options.onPageDelivered?.(page, report, now);
  }

  private async pageFailed(page: PendingPage, now: number, expired: boolean, reason: string): Promise<void> {
    const { runtime } = this;
    runtime.lastFailure = { at: now, sink: pendingSink, reason };
    for (const member of page.members) {
      // The page gave up, or failed again: the key is free for the next occurrence.
      if (expired || page.released) await runtime.releaseKey(member, now);
      runtime.record({
        ...member,
        outcome: 'failed',
        sinks: [],
        detail: expired ? `ALERT LOST: expired undelivered (${reason})` : `pending page attempt ${page.attempt} failed: ${reason}`,
        at: now,
      });
    }
  }
}
