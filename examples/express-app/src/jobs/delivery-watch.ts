import { StuckStateDetector, type AlertSender, type StuckEntity } from '@hardening/alerting';
import { isFinalMessageStatus, isMessageStatus, scrubText, type Logger, type SafeCall } from '@hardening/core';
import type { AlertInput } from '../alerts/alert-input.js';
import type { Db } from '../db/database.js';
import type { Deliverability } from '../domain/deliverability/deliverability.js';
import type { SmsSender } from '../providers/sms-sender.js';

/** What the delivery watch needs. */
export interface DeliveryWatchDeps {
  readonly db: Db;
  /** Undefined when Twilio is not configured: nothing to look up. */
  readonly sender: SmsSender | undefined;
  readonly safeCall: SafeCall;
  readonly deliverability: Deliverability;
  readonly logger: Logger;
  readonly alert: (alert: AlertInput) => void;
  /** Where the stuck-receipt detector raises its alerts; without it, it only reports. */
  readonly alerts?: AlertSender;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Options of {@link checkMissingReceipts}. */
export interface MissingReceiptOptions {
  /**
   * A sent message without a final status this long after sending is looked up.
   * @default 1_800_000 (30 minutes; carriers report most receipts within minutes)
   */
  readonly stuckAfterMs?: number;
  /** Messages looked up per round. @default 100 */
  readonly limit?: number;
}

/** What {@link checkMissingReceipts} did. */
export interface MissingReceiptReport {
  readonly lookedUp: number;
  /** Final at Twilio: applied as if the receipt had come. */
  readonly resolved: number;
  readonly lookupFailed: number;
  /** Still not final at Twilio either: fed to the stuck-state detector. */
  readonly stuck: readonly StuckEntity[];
}

const nonFinal = [null, 'accepted', 'scheduled', 'queued', 'sending', 'sent'];

/**
 * Receipts that never arrive: a message still without a final status `stuckAfterMs` after
 * it was sent is looked up through the Messages API (GET Messages/{sid}); a final status
 * there goes through the same state machine as a callback (source `lookup`); one still not
 * final is handed to the stuck-state detector (`SMS_RECEIPT_MISSING`).
 */
export async function checkMissingReceipts(deps: DeliveryWatchDeps, options: MissingReceiptOptions = {}): Promise<MissingReceiptReport> {
  const { stuckAfterMs = 1_800_000, limit = 100 } = options;
  const now = deps.now ?? Date.now;
  const rows = await deps.db.outboundMessage.findMany({
    where: {
      status: 'sent',
      twilioSid: { not: null },
      sentAt: { lt: new Date(now() - stuckAfterMs) },
      OR: [{ deliveryStatus: null }, { deliveryStatus: { in: nonFinal.filter((s) => s !== null) } }],
    },
    orderBy: { sentAt: 'asc' },
    take: limit,
    select: { id: true, twilioSid: true, sentAt: true, deliveryStatus: true },
  });
  if (rows.length === 0) return { lookedUp: 0, resolved: 0, lookupFailed: 0, stuck: [] };
  let resolved = 0;
  let lookupFailed = 0;
  const still: typeof rows = [];
  for (const row of rows) {
    if (deps.sender === undefined) break;
    const sender = deps.sender;
    try {
      const found = await deps.safeCall('twilio_lookup', () => sender.fetchStatus(row.twilioSid!));
      if (isMessageStatus(found.status) && isFinalMessageStatus(found.status)) {
        await deps.deliverability.onStatus({
          outboxId: row.id,
          messageSid: row.twilioSid!,
          status: found.status,
          errorCode: found.errorCode,
          source: 'lookup',
        });
        resolved++;
        continue;
      }
      if (isMessageStatus(found.status))
        await deps.deliverability.onStatus({ outboxId: row.id, messageSid: row.twilioSid!, status: found.status, source: 'lookup' });
    } catch (error) {
      lookupFailed++;
      deps.logger.warn({ outboxId: row.id, err: scrubText(String(error)) }, 'could not look up an SMS whose receipt is missing');
    }
    still.push(row);
  }
  const detector = new StuckStateDetector({
    source: () => still.map((r) => ({ id: r.id, state: 'awaiting_receipt', enteredAt: r.sentAt ?? new Date(now()), label: `SMS ${r.id}` })),
    maxDwellMs: { awaiting_receipt: stuckAfterMs },
    alertType: 'SMS_RECEIPT_MISSING',
    entityName: 'SMS',
    clock: { now },
    ...(deps.alerts === undefined ? {} : { alerts: deps.alerts }),
  });
  const stuck = deps.alerts === undefined ? await detector.detect() : (await detector.check()).stuck;
  if (rows.length > 0) deps.logger.info({ lookedUp: rows.length, resolved, lookupFailed, stuck: stuck.length }, 'missing delivery receipts checked');
  return { lookedUp: rows.length, resolved, lookupFailed, stuck };
}

/** One disagreement between the outbox and Twilio's message log. */
export interface Disagreement {
  readonly kind: 'missing_at_twilio' | 'status_differs' | 'not_in_outbox';
  readonly sid: string;
  readonly outboxId: string | undefined;
  readonly ours: string | undefined;
  readonly theirs: string | undefined;
}

/** What {@link reconcileDeliveries} found. */
export interface ReconciliationReport {
  readonly since: Date;
  readonly ours: number;
  readonly theirs: number;
  /** Final statuses Twilio had and we did not (missed receipts), applied now. */
  readonly applied: number;
  readonly disagreements: readonly Disagreement[];
}

/**
 * The daily reconciliation: the day's outbox messages against Twilio's message list. A
 * final status only Twilio has is applied (a lost receipt); a message of ours Twilio does
 * not list, a final status that differs, and a Twilio message from one of our outbox
 * senders that the outbox never sent are reported (log, and a MEDIUM alert when any).
 * Twilio's list is read in one page of `limit`: a day beyond it is reported as partial
 * (missing_at_twilio is then not judged).
 */
export async function reconcileDeliveries(
  deps: DeliveryWatchDeps,
  options: { readonly since?: Date; readonly limit?: number } = {},
): Promise<ReconciliationReport> {
  const now = deps.now ?? Date.now;
  const since = options.since ?? new Date(now() - 86_400_000);
  const limit = options.limit ?? 1000;
  const ours = await deps.db.outboundMessage.findMany({
    where: { twilioSid: { not: null }, sentAt: { gte: since } },
    select: { id: true, twilioSid: true, fromPhone: true, deliveryStatus: true },
  });
  if (deps.sender === undefined) return { since, ours: ours.length, theirs: 0, applied: 0, disagreements: [] };
  const sender = deps.sender;
  const theirs = await deps.safeCall('twilio_lookup', () => sender.listSince(since, limit));
  const bySid = new Map(theirs.map((m) => [m.sid, m]));
  const ourSids = new Set(ours.map((o) => o.twilioSid!));
  const ourSenders = new Set(ours.map((o) => o.fromPhone));
  const disagreements: Disagreement[] = [];
  let applied = 0;
  for (const row of ours) {
    const sid = row.twilioSid!;
    const their = bySid.get(sid);
    if (their === undefined) {
      if (theirs.length < limit)
        disagreements.push({ kind: 'missing_at_twilio', sid, outboxId: row.id, ours: row.deliveryStatus ?? 'sent', theirs: undefined });
      continue;
    }
    if (!isMessageStatus(their.status) || !isFinalMessageStatus(their.status) || their.status === row.deliveryStatus) continue;
    const outcome = await deps.deliverability.onStatus({
      outboxId: row.id,
      messageSid: sid,
      status: their.status,
      errorCode: their.errorCode,
      source: 'reconciliation',
    });
    if (outcome.changed && !(isMessageStatus(row.deliveryStatus) && isFinalMessageStatus(row.deliveryStatus))) {
      applied++;
      continue;
    }
    disagreements.push({ kind: 'status_differs', sid, outboxId: row.id, ours: outcome.status ?? row.deliveryStatus ?? undefined, theirs: their.status });
  }
  for (const their of theirs) {
    if (!ourSids.has(their.sid) && ourSenders.has(their.from))
      disagreements.push({ kind: 'not_in_outbox', sid: their.sid, outboxId: undefined, ours: undefined, theirs: their.status });
  }
  const report = { since, ours: ours.length, theirs: theirs.length, applied, disagreements };
  deps.logger.info(
    { since: since.toISOString(), ours: ours.length, theirs: theirs.length, applied, disagreements: disagreements.length },
    'SMS reconciliation against Twilio',
  );
  if (disagreements.length > 0) {
    const counts = new Map<string, number>();
    for (const d of disagreements) counts.set(d.kind, (counts.get(d.kind) ?? 0) + 1);
    const kinds = [...counts].map(([kind, n]) => `${n} ${kind}`);
    deps.alert({
      type: 'SMS_RECONCILIATION',
      severity: 'MEDIUM',
      title: `SMS reconciliation: ${disagreements.length} disagreement(s) with Twilio`,
      message: `Since ${since.toISOString()}: ${kinds.join(', ')}. SIDs: ${disagreements
        .slice(0, 10)
        .map((d) => d.sid)
        .join(', ')}`,
    });
  }
  return report;
}
