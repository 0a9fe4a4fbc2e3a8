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
  /** Told when a pending page finally reached a person (escalation timers start then); not for a partial page. */
  readonly onPageDelivered?: (page: PendingPage, report: DeliveryReport, now: number) => Promise<void>;
  /** Whether the alert (type, key) is acknowledged: the rest of a page a person has is then dropped. */
  readonly acknowledged: (type: string, key: string) => boolean;
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

  /**
   * The rest of a page a person already has: `report` delivered the alert (`ok`) but some
   * route sinks failed with no fallback in their place (`owed`). The page is owed to those
   * alone, and keeps the alert's key (the alert was delivered: its duplicates stay suppressed).
   *
   * @param page - The page as delivered so far (a new one, or a pending one just retried).
   * @param report - The delivery that reached someone.
   * @param now - Current time.
   * @returns The partial page, to enqueue.
   */
  owedPage(page: PendingPage, report: DeliveryReport, now: number): PendingPage {
    const remote = report.delivered.filter((name) => name !== this.runtime.logSink.name);
    return {
      ...page,
      route: report.owed,
      reached: [...new Set([...page.reached, ...remote])],
      lastReason: report.failed
        .filter((f) => report.owed.includes(f.sink))
        .map((f) => `${f.sink}: ${f.reason}`)
        .join('; '),
      firstFailedAt: page.partial === true ? page.firstFailedAt : now,
      expiresAt: page.partial === true ? page.expiresAt : now + this.options.expireAfterMs,
      released: false,
      partial: true,
    };
  }

  /** Before a retry: hold the page's key again. False when another alert holds it (it supersedes the page). */
  private async reclaimPage(page: PendingPage, now: number): Promise<boolean> {
    if (page.partial === true) {
      if (!this.options.acknowledged(page.message.type, page.message.key)) return true;
      this.runtime.record({
        ...page.members[0]!,
        outcome: 'suppressed',
        sinks: [],
        detail: `page to ${page.route.join(', ')} dropped: the alert was acknowledged`,
        at: now,
      });
      return false;
    }
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
    if (report.owed.length > 0) await this.queue.enqueue({ ...this.owedPage(page, report, now), attempt: page.attempt + 1 }, now);
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
    // A partial page's alert was delivered before: its escalation is running already.
    if (page.partial !== true) await this.options.onPageDelivered?.(page, report, now);
  }

  private async pageFailed(page: PendingPage, now: number, expired: boolean, reason: string): Promise<void> {
    const { runtime } = this;
    runtime.lastFailure = { at: now, sink: pendingSink, reason };
    for (const member of page.members) {
      // The page gave up, or failed again: the key is free for the next occurrence. Not so
      // for the rest of a page a person has: the alert was delivered.
      if (page.partial !== true && (expired || page.released)) await runtime.releaseKey(member, now);
      runtime.record({
        ...member,
        outcome: 'failed',
        sinks: [],
        detail: failureDetail(page, expired, reason),
        at: now,
      });
    }
  }
}

/** The history detail of a page that failed again, or expired. */
function failureDetail(page: PendingPage, expired: boolean, reason: string): string {
  if (page.partial !== true) return expired ? `ALERT LOST: expired undelivered (${reason})` : `pending page attempt ${page.attempt} failed: ${reason}`;
  const owed = `page to ${page.route.join(', ')}`;
  return `${expired ? `${owed} given up` : `${owed}, attempt ${page.attempt}, failed`} (${reason}); the alert reached ${page.reached.join(', ')}`;
}
