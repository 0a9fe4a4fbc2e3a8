import type { IdempotencyStore } from '@hardening/idempotency';
import type { Logger } from '@hardening/core';
import type { Db } from '../db/database.js';

const hour = 3_600_000;
const day = 24 * hour;

/**
 * How long rows are kept. The defaults, and why:
 *
 * - webhook deliveries (completed or dead-lettered): 7 days, the delivery log's promise:
 *   long enough to look into a weekend's dead letters and re-drive them;
 * - processed inbound SMS (the raw webhook payload): 7 days, as long as the delivery log
 *   that can re-drive them; the conversation keeps the message itself;
 * - dead-lettered inbound SMS: 30 days, evidence for a customer complaint;
 * - outbox rows that are done (sent, delivered, undelivered, not sent, dead-lettered):
 *   30 days, to answer "did the customer get our text?" with Twilio's SID;
 * - Slack signals that were evaluated (or failed, or timed out): 30 days;
 * - idempotency records: their own expiry (24 h for processed webhook events), deleted by
 *   @hardening/idempotency's cleanup on the database store (Redis expires them itself).
 *
 * Alert history has its own retention in the alert service's maintenance (30 days).
 */
export interface RetentionOptions {
  /** @default 7 days */
  readonly deliveriesMs?: number;
  /** @default 7 days */
  readonly processedInboundMs?: number;
  /** @default 30 days */
  readonly deadInboundMs?: number;
  /** @default 30 days */
  readonly outboxMs?: number;
  /** @default 30 days */
  readonly slackSignalsMs?: number;
  /** Rows per DELETE, so no statement runs into the 5 s statement timeout. @default 1000 */
  readonly batchSize?: number;
}

/** Rows deleted, by table. */
export interface RetentionReport {
  readonly idempotencyRecords: number;
  readonly webhookDeliveries: number;
  readonly inboundEvents: number;
  readonly outboundMessages: number;
  readonly slackSignals: number;
}

const defaults = { deliveriesMs: 7 * day, processedInboundMs: 7 * day, deadInboundMs: 30 * day, outboxMs: 30 * day, slackSignalsMs: 30 * day, batchSize: 1000 };

/** The outbox statuses after which nothing more happens to a row. */
const outboxDone = ['sent', 'delivered', 'undelivered', 'not_sent', 'dead_letter', 'suppressed', 'opted_out'];

/** Deletes in batches until a batch comes back short. */
async function deleteInBatches(run: () => Promise<number>, batchSize: number): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await run();
    total += deleted;
    if (deleted < batchSize) return total;
  }
}

/**
 * Deletes what is past its retention (see {@link RetentionOptions}), oldest first, in
 * batches. Only rows that are finished and old go: pending work is never deleted, whatever
 * its age.
 */
export async function runRetention(
  deps: { db: Db; idempotencyStore: IdempotencyStore; logger: Logger; now?: () => number },
  options: RetentionOptions = {},
): Promise<RetentionReport> {
  const { db, logger } = deps;
  const now = (deps.now ?? Date.now)();
  const o = { ...defaults, ...options };
  const before = (ms: number) => new Date(now - ms);
  const batch = o.batchSize;

  const idempotencyRecords = (await deps.idempotencyStore.cleanup?.()) ?? 0;
  const webhookDeliveries = await deleteInBatches(
    () => db.$executeRaw`
      DELETE FROM "webhook_deliveries" WHERE "id" IN (
        SELECT "id" FROM "webhook_deliveries"
         WHERE "status" IN ('completed', 'dead_letter') AND "created_at" < ${before(o.deliveriesMs)}
         ORDER BY "created_at" LIMIT ${batch})`,
    batch,
  );
  const inboundEvents = await deleteInBatches(
    () => db.$executeRaw`
      DELETE FROM "inbound_events" WHERE "id" IN (
        SELECT "id" FROM "inbound_events"
         WHERE ("status" = 'processed' AND "created_at" < ${before(o.processedInboundMs)})
            OR ("status" = 'dead_letter' AND "created_at" < ${before(o.deadInboundMs)})
         ORDER BY "created_at" LIMIT ${batch})`,
    batch,
  );
  const outboundMessages = await deleteInBatches(
    () => db.$executeRaw`
      DELETE FROM "outbound_messages" WHERE "id" IN (
        SELECT "id" FROM "outbound_messages"
         WHERE "status" = ANY(${outboxDone}::text[]) AND "created_at" < ${before(o.outboxMs)}
         ORDER BY "created_at" LIMIT ${batch})`,
    batch,
  );
  const slackSignals = await deleteInBatches(
    () => db.$executeRaw`
      DELETE FROM "slack_signals" WHERE "id" IN (
        SELECT "id" FROM "slack_signals"
         WHERE "status" <> 'stored' AND "created_at" < ${before(o.slackSignalsMs)}
         ORDER BY "created_at" LIMIT ${batch})`,
    batch,
  );
  const report = { idempotencyRecords, webhookDeliveries, inboundEvents, outboundMessages, slackSignals };
  logger.info(report, 'retention: old rows deleted');
  return report;
}

/**
 * When a daily job at `hourUtc`:00 UTC runs next, after `now` (epoch ms).
 *
 * @example
 * ```ts
 * nextDailyRunAt(Date.parse('2026-03-01T05:00:00Z'), 4); // 2026-03-02T04:00:00Z
 * ```
 */
export function nextDailyRunAt(now: number, hourUtc: number): number {
  const date = new Date(now);
  const today = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), hourUtc);
  return today > now ? today : today + day;
}
