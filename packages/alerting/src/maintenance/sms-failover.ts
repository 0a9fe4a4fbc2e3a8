import { randomUUID } from 'node:crypto';
import { maskPhoneNumber } from '@hardening/core';
import type { AlertMessage } from '../alert.js';
import type { DeliveryUnconfirmedError } from '../errors/delivery-unconfirmed-error.js';
import { headline, scrubbedAlert, scrubText } from '../format.js';
import type { PageMember, PendingPage } from '../pending-pages.js';
import type { AlertRuntime } from '../runtime.js';
import type { ClaimResult, TrackedDelivery } from '../store/alert-store.js';
import type { PendingRetries } from './pending-retries.js';

const day = 24 * 3_600_000;

/** The internal type under which an unconfirmed SMS claims its (one) fallback per alert. */
const fallbackClaimType = 'alerting.sms-fallback';

/** What a tracked SMS delivery stores (as the delivery's JSON payload). */
export interface DeliveryPayload {
  readonly message: AlertMessage;
  readonly deliveredTo: readonly string[];
  readonly members: readonly PageMember[];
}

/**
 * An alert SMS that was not delivered (a `failed` receipt, or none before its deadline):
 * recorded, then sent once per alert (fleet-wide, claimed in the store) to the next
 * fallback sink not used yet; when none takes it the page waits in the pending queue.
 */
export class SmsFailover {
  constructor(
    private readonly runtime: AlertRuntime,
    private readonly pending: PendingRetries,
  ) {}

  /**
   * Handles one undelivered SMS.
   *
   * @param delivery - The tracked SMS.
   * @param error - Why it counts as not delivered.
   * @param to - The recipient, for the log (masked).
   */
  async failOver(delivery: TrackedDelivery, error: DeliveryUnconfirmedError, to?: string): Promise<void> {
    const { runtime } = this;
    const now = runtime.clock.now();
    const payload = JSON.parse(delivery.payload) as DeliveryPayload;
    const message = payload.message;
    const where = to !== undefined ? ` to ${maskPhoneNumber(to)}` : '';
    runtime.lastFailure = { at: now, sink: delivery.sink, reason: error.message };
    runtime.logger.error(
      { alert: scrubbedAlert(message), sink: delivery.sink, deliveryId: delivery.deliveryId, reason: error.message },
      `ALERT NOT DELIVERED via ${delivery.sink}${where}: ${headline(message)} (${error.message}); falling back`,
    );
    for (const member of payload.members) {
      runtime.record({ ...member, outcome: 'failed', sinks: [delivery.sink], detail: scrubText(`${error.message}${where}`), at: now });
    }
    // Several messages of one alert (one per on-call number) may fail: one fallback per alert.
    const claim = await runtime
      .storeCall('primary', () =>
        runtime.store.claim({
          alertId: randomUUID(),
          type: fallbackClaimType,
          key: delivery.alertId,
          resourceId: undefined,
          severity: 'LOW',
          title: 'sms fallback',
          payload: '{}',
          now,
          windowMs: day,
        }),
      )
      .catch(() => ({ claimed: true }) as ClaimResult);
    if (!claim.claimed) return;
    const used = new Set([...payload.deliveredTo, delivery.sink]);
    const report = await runtime.deliverer.deliverFallback(message, runtime.fallbackOrder, used);
    runtime.noteReport(report, now);
    let page: PendingPage | undefined;
    if (!report.ok) {
      // Nobody was reached: the page waits in the queue (the SMS sink included: the number
      // may answer later), and the key is free for the next occurrence.
      const reached = payload.deliveredTo.filter((name) => name !== delivery.sink && name !== runtime.logSink.name);
      page = this.pending.newPage(
        message,
        payload.members.length > 1 ? [] : [message],
        reached,
        now,
        `${delivery.sink} not delivered (${error.message}); no fallback took it`,
      );
      page = { ...page, members: payload.members, released: payload.members.length === 1 };
      await this.pending.queue.enqueue(page, now);
      if (page.released) for (const member of payload.members) await runtime.releaseKey(member, now);
    }
    for (const member of payload.members) {
      runtime.record({
        ...member,
        outcome: report.ok ? 'delivered' : 'failed',
        sinks: report.delivered,
        detail: `fallback after ${delivery.sink} was not delivered${report.ok ? '' : `; no fallback sink took it; pending until ${new Date(page!.expiresAt).toISOString()}`}`,
        at: now,
      });
    }
  }
}
