import type { Severity } from '../alert.js';
import type {
  ActiveAlertRecord,
  AlertHistoryEntry,
  AlertOutcome,
  AlertStore,
  ClaimRequest,
  ClaimResult,
  OutcomeCount,
  TrackedDelivery,
} from './alert-store.js';

/**
 * The slice of a Prisma 7 client the store uses: a `PrismaClient` with any driver adapter
 * (`@prisma/adapter-pg`, `pglite-prisma-adapter`). `@prisma/client` is an optional peer
 * dependency: pass your own client.
 *
 * @example
 * ```ts
 * import { PrismaPg } from '@prisma/adapter-pg';
 * import { PrismaClient } from './generated/prisma/client.js';
 * import type { PrismaRawClient } from '@hardening/alerting';
 * const prisma: PrismaRawClient = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL! }) });
 * ```
 */
export interface PrismaRawClient {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
}

/**
 * Options for {@link createPrismaAlertStore}.
 *
 * @example
 * ```ts
 * import { PrismaPg } from '@prisma/adapter-pg';
 * import { PrismaClient } from './generated/prisma/client.js';
 * import { createPrismaAlertStore } from '@hardening/alerting';
 * const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL! }) });
 * const store = createPrismaAlertStore({ prisma });
 * ```
 */
export interface PrismaAlertStoreOptions {
  /** Your `PrismaClient`. */
  readonly prisma: PrismaRawClient;
  /**
   * The PostgreSQL schema of the tables, when not on the search path.
   * @default undefined (the connection's search path, usually `public`)
   */
  readonly schema?: string | undefined;
}

const identifier = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** `to_timestamp` of a parameter holding epoch milliseconds. */
const ts = (param: string) => `to_timestamp(${param}::float8 / 1000)`;
/** Epoch milliseconds of a timestamp column. */
const ms = (column: string) => `(EXTRACT(EPOCH FROM ${column}) * 1000)::float8`;
/** A text[] from a JSON array parameter (arrays as parameters differ between adapters). */
const textArray = (param: string) => `ARRAY(SELECT jsonb_array_elements_text(${param}::jsonb))`;

function sqlFor(schema: string | undefined) {
  const q = (table: string) => (schema === undefined ? `"${table}"` : `"${schema}"."${table}"`);
  const logs = q('alert_logs');
  const history = q('alert_history');
  const deliveries = q('alert_deliveries');
  const rank = (column: string) => `(CASE ${column} WHEN 'HIGH' THEN 2 WHEN 'MEDIUM' THEN 1 ELSE 0 END)`;
  // Free (window over, resolved, released), or held at a lower severity than the request's.
  const fresh = `(l."expires_at" <= EXCLUDED."claimed_at" OR l."resolved_at" IS NOT NULL OR ${rank('EXCLUDED."severity"')} > ${rank('l."severity"')})`;
  const reopened = `(l."resolved_at" IS NOT NULL)`;
  const record = `"alert_id", "alert_type", "alert_key", "resource_id", "severity", "title", "payload"::text AS payload,
  ${ms('"first_seen_at"')} AS first_seen_at, ${ms('"last_seen_at"')} AS last_seen_at, ${ms('"expires_at"')} AS expires_at,
  ${ms('"delivered_at"')} AS delivered_at, array_to_json("sinks")::text AS sinks, ${ms('"escalated_at"')} AS escalated_at, "occurrences"`;
  const delivery = `"delivery_id", "alert_id", "alert_type", "alert_key", "sink", "status", "payload"::text AS payload, ${ms('"sent_at"')} AS sent_at, ${ms('"deadline_at"')} AS deadline_at`;
  return {
    // One statement decides the claim: concurrent claims on one (type, key) serialize on
    // the unique index, and each re-checks the row it finally sees (READ COMMITTED's
    // ON CONFLICT DO UPDATE works on the latest version), so exactly one wins per window.
    claim: `INSERT INTO ${logs} AS l ("id", "alert_id", "alert_type", "alert_key", "resource_id", "severity", "title", "payload",
  "first_seen_at", "last_seen_at", "claimed_at", "expires_at", "sinks", "occurrences")
VALUES ($1, $1, $2, $3, $4, $5, $6, $7::jsonb, ${ts('$8')}, ${ts('$8')}, ${ts('$8')}, ${ts('($8::float8 + $9::float8)')}, ARRAY[]::text[], 1)
ON CONFLICT ("alert_type", "alert_key") DO UPDATE SET
  "alert_id" = CASE WHEN ${fresh} THEN EXCLUDED."alert_id" ELSE l."alert_id" END,
  "resource_id" = CASE WHEN ${fresh} THEN EXCLUDED."resource_id" ELSE l."resource_id" END,
  "title" = CASE WHEN ${fresh} THEN EXCLUDED."title" ELSE l."title" END,
  "payload" = CASE WHEN ${fresh} THEN EXCLUDED."payload" ELSE l."payload" END,
  "severity" = CASE WHEN ${fresh} THEN (CASE WHEN NOT ${reopened} AND l."escalated_at" IS NOT NULL THEN 'HIGH' ELSE EXCLUDED."severity" END) ELSE l."severity" END,
  "first_seen_at" = CASE WHEN ${reopened} THEN EXCLUDED."first_seen_at" ELSE l."first_seen_at" END,
  "last_seen_at" = GREATEST(l."last_seen_at", EXCLUDED."last_seen_at"),
  "claimed_at" = CASE WHEN ${fresh} THEN EXCLUDED."claimed_at" ELSE l."claimed_at" END,
  "expires_at" = CASE WHEN ${fresh} THEN EXCLUDED."expires_at" ELSE l."expires_at" END,
  "delivered_at" = CASE WHEN ${fresh} THEN NULL ELSE l."delivered_at" END,
  "sinks" = CASE WHEN ${fresh} THEN ARRAY[]::text[] ELSE l."sinks" END,
  "escalated_at" = CASE WHEN ${reopened} THEN NULL ELSE l."escalated_at" END,
  "resolved_at" = CASE WHEN ${fresh} THEN NULL ELSE l."resolved_at" END,
  "occurrences" = CASE WHEN ${reopened} THEN 1 ELSE l."occurrences" + 1 END
RETURNING ("alert_id" = $1) AS claimed, "alert_id", "severity", ${ms('"first_seen_at"')} AS first_seen_at, ${ms('"expires_at"')} AS expires_at, "occurrences"`,
    markDelivered: `UPDATE ${logs} SET "delivered_at" = ${ts('$4')}, "sinks" = ${textArray('$5')}
WHERE "alert_type" = $1 AND "alert_key" = $2 AND "alert_id" = $3`,
    release: `UPDATE ${logs} SET "expires_at" = LEAST("expires_at", ${ts('$4')})
WHERE "alert_type" = $1 AND "alert_key" = $2 AND "alert_id" = $3 AND "resolved_at" IS NULL`,
    resolve: `UPDATE ${logs} SET "resolved_at" = ${ts('$3')}, "expires_at" = LEAST("expires_at", ${ts('$3')})
WHERE "alert_type" = $1 AND "alert_key" = $2 AND "resolved_at" IS NULL
RETURNING ${record}`,
    hasOpenHigh: `SELECT EXISTS (SELECT 1 FROM ${logs} WHERE "resource_id" = $1 AND "severity" = 'HIGH' AND "resolved_at" IS NULL
  AND "expires_at" > ${ts('$4')} AND NOT ("alert_type" = $2 AND "alert_key" = $3)) AS open`,
    candidates: `SELECT ${record} FROM ${logs}
WHERE "severity" = 'MEDIUM' AND "resolved_at" IS NULL AND "delivered_at" IS NOT NULL AND "escalated_at" IS NULL
  AND "first_seen_at" <= ${ts('$1')} AND "last_seen_at" >= ${ts('$2')}
ORDER BY "first_seen_at" LIMIT $3`,
    claimEscalation: `UPDATE ${logs} SET "escalated_at" = ${ts('$3')}, "severity" = 'HIGH'
WHERE "alert_type" = $1 AND "alert_key" = $2 AND "resolved_at" IS NULL AND "escalated_at" IS NULL
RETURNING 1 AS escalated`,
    append: `INSERT INTO ${history} ("alert_id", "alert_type", "alert_key", "resource_id", "severity", "outcome", "sinks", "detail", "created_at")
VALUES ($1, $2, $3, $4, $5, $6, ${textArray('$7')}, $8, ${ts('$9')})`,
    history: (byType: boolean, byKey: boolean) => `SELECT "alert_id", "alert_type", "alert_key", "resource_id", "severity", "outcome",
  array_to_json("sinks")::text AS sinks, "detail", ${ms('"created_at"')} AS created_at
FROM ${history} WHERE "created_at" >= ${ts('$1')}${byType ? ` AND "alert_type" = $3` : ''}${byKey ? ` AND "alert_key" = $${byType ? 4 : 3}` : ''}
ORDER BY "created_at" DESC, "id" DESC LIMIT $2`,
    countOutcomes: `SELECT "alert_type", "severity", "outcome", COUNT(*)::int AS count FROM ${history}
WHERE "created_at" >= ${ts('$1')} GROUP BY "alert_type", "severity", "outcome"`,
    track: `INSERT INTO ${deliveries} ("delivery_id", "alert_id", "alert_type", "alert_key", "sink", "status", "payload", "sent_at", "deadline_at")
VALUES ($1, $2, $3, $4, $5, 'pending', $6::jsonb, ${ts('$7')}, ${ts('$8')})
ON CONFLICT ("delivery_id") DO UPDATE SET "alert_id" = EXCLUDED."alert_id", "alert_type" = EXCLUDED."alert_type", "alert_key" = EXCLUDED."alert_key",
  "sink" = EXCLUDED."sink", "status" = 'pending', "payload" = EXCLUDED."payload", "sent_at" = EXCLUDED."sent_at", "deadline_at" = EXCLUDED."deadline_at", "settled_at" = NULL`,
    listPending: `SELECT ${delivery} FROM ${deliveries} WHERE "status" = 'pending' AND ($1::text IS NULL OR "sink" = $1::text) ORDER BY "sent_at" LIMIT $2`,
    appendMany: `INSERT INTO ${history} ("alert_id", "alert_type", "alert_key", "resource_id", "severity", "outcome", "sinks", "detail", "created_at")
SELECT r."alertId", r."type", r."key", r."resourceId", r."severity", r."outcome", ARRAY(SELECT jsonb_array_elements_text(r."sinks")), r."detail", to_timestamp(r."at"::float8 / 1000)
FROM jsonb_to_recordset($1::jsonb) AS r("alertId" text, "type" text, "key" text, "resourceId" text, "severity" text, "outcome" text, "sinks" jsonb, "detail" text, "at" float8)`,
    settle: `UPDATE ${deliveries} SET "status" = $2, "settled_at" = ${ts('$3')}
WHERE "delivery_id" = $1 AND "status" = 'pending'
RETURNING ${delivery}`,
    overdue: `UPDATE ${deliveries} SET "status" = 'expired', "settled_at" = ${ts('$1')}
WHERE "delivery_id" IN (
  SELECT "delivery_id" FROM ${deliveries} WHERE "status" = 'pending' AND "deadline_at" <= ${ts('$1')}
  ORDER BY "deadline_at" LIMIT $2 FOR UPDATE SKIP LOCKED
) AND "status" = 'pending'
RETURNING ${delivery}`,
    pruneHistory: `DELETE FROM ${history} WHERE "created_at" < ${ts('$1')}`,
    pruneDeliveries: `DELETE FROM ${deliveries} WHERE "status" <> 'pending' AND COALESCE("settled_at", "sent_at") < ${ts('$1')}`,
    pruneLogs: `DELETE FROM ${logs} WHERE "last_seen_at" < ${ts('$1')} AND ("resolved_at" IS NOT NULL OR "expires_at" <= ${ts('$1')})`,
  };
}

interface RecordRow {
  alert_id: string;
  alert_type: string;
  alert_key: string;
  resource_id: string | null;
  severity: string;
  title: string;
  payload: string;
  first_seen_at: number;
  last_seen_at: number;
  expires_at: number;
  delivered_at: number | null;
  sinks: string | null;
  escalated_at: number | null;
  occurrences: number;
}

interface DeliveryRow {
  delivery_id: string;
  alert_id: string;
  alert_type: string;
  alert_key: string;
  sink: string;
  status: string;
  payload: string;
  sent_at: number;
  deadline_at: number;
}

const num = (value: unknown) => Math.round(Number(value));
const optional = (value: unknown) => (value === null || value === undefined ? undefined : num(value));

function toRecord(row: RecordRow): ActiveAlertRecord {
  return {
    alertId: row.alert_id,
    type: row.alert_type,
    key: row.alert_key,
    resourceId: row.resource_id ?? undefined,
    severity: row.severity as Severity,
    title: row.title,
    payload: row.payload,
    firstSeenAt: num(row.first_seen_at),
    lastSeenAt: num(row.last_seen_at),
    expiresAt: num(row.expires_at),
    deliveredAt: optional(row.delivered_at),
    sinks: row.sinks === null ? [] : (JSON.parse(row.sinks) as string[]),
    escalatedAt: optional(row.escalated_at),
    occurrences: num(row.occurrences),
  };
}

function toDelivery(row: DeliveryRow): TrackedDelivery {
  return {
    deliveryId: row.delivery_id,
    alertId: row.alert_id,
    type: row.alert_type,
    key: row.alert_key,
    sink: row.sink,
    status: row.status as TrackedDelivery['status'],
    payload: row.payload,
    sentAt: num(row.sent_at),
    deadlineAt: num(row.deadline_at),
  };
}

/**
 * An {@link AlertStore} on PostgreSQL through Prisma 7: raw SQL on your `PrismaClient`,
 * so it works with any driver adapter (PGlite included). Tables: `alert_logs` (one row
 * per (alert_type, alert_key), unique: the dedup claim; indexed on alert_type,
 * delivered_at and resource_id), `alert_history` (append-only: every outcome) and
 * `alert_deliveries` (SMS awaiting a receipt). Apply the migration shipped in
 * `prisma/migrations/` and paste `prisma/alerting.prisma` into your schema.
 *
 * Times are the app's clock (the service's `clock`), so keep app servers' clocks in sync
 * (NTP); windows are hours long, so seconds of skew do not matter.
 *
 * @param options - See {@link PrismaAlertStoreOptions}.
 * @returns The store.
 * @throws TypeError when `prisma` is not a PrismaClient or `schema` is not an identifier.
 * @example
 * ```ts
 * import { createAlertService, createPrismaAlertStore } from '@hardening/alerting';
 * const alerts = createAlertService({ sinks, store: createPrismaAlertStore({ prisma }) });
 * ```
 */
export function createPrismaAlertStore(options: PrismaAlertStoreOptions): AlertStore {
  const prisma = options?.prisma as Partial<PrismaRawClient> | undefined;
  if (typeof prisma?.$queryRawUnsafe !== 'function' || typeof prisma.$executeRawUnsafe !== 'function') {
    throw new TypeError('Expected `prisma` to be a PrismaClient (with $queryRawUnsafe and $executeRawUnsafe).');
  }
  if (options.schema !== undefined && !identifier.test(options.schema)) {
    throw new TypeError(`Expected \`schema\` to be a PostgreSQL identifier, got ${JSON.stringify(options.schema)}.`);
  }
  const client = prisma as PrismaRawClient;
  const sql = sqlFor(options.schema);
  const query = <T>(text: string, ...values: unknown[]) => client.$queryRawUnsafe<T>(text, ...values) as Promise<T>;
  const execute = (text: string, ...values: unknown[]) => client.$executeRawUnsafe(text, ...values) as Promise<number>;

  return {
    kind: 'postgres',

    async claim(request: ClaimRequest): Promise<ClaimResult> {
      const rows = await query<Array<{ claimed: boolean; alert_id: string; severity: string; first_seen_at: number; expires_at: number; occurrences: number }>>(
        sql.claim,
        request.alertId,
        request.type,
        request.key,
        request.resourceId ?? null,
        request.severity,
        request.title,
        request.payload,
        request.now,
        request.windowMs,
      );
      const row = rows[0]!;
      return {
        claimed: row.claimed === true,
        alertId: row.alert_id,
        severity: row.severity as Severity,
        firstSeenAt: num(row.first_seen_at),
        expiresAt: num(row.expires_at),
        occurrences: num(row.occurrences),
      };
    },

    async markDelivered({ type, key, alertId, at, sinks }) {
      await execute(sql.markDelivered, type, key, alertId, at, JSON.stringify(sinks));
    },

    async release({ type, key, alertId, at }) {
      await execute(sql.release, type, key, alertId, at);
    },

    async resolve({ type, key, at }) {
      const rows = await query<RecordRow[]>(sql.resolve, type, key, at);
      return rows[0] === undefined ? undefined : toRecord(rows[0]);
    },

    async hasOpenHigh({ resourceId, exceptType, exceptKey, at }) {
      const rows = await query<Array<{ open: boolean }>>(sql.hasOpenHigh, resourceId, exceptType, exceptKey, at);
      return rows[0]?.open === true;
    },

    async escalationCandidates({ firstSeenBefore, lastSeenAfter, limit }) {
      return (await query<RecordRow[]>(sql.candidates, firstSeenBefore, lastSeenAfter, limit)).map(toRecord);
    },

    async claimEscalation({ type, key, at }) {
      return (await query<unknown[]>(sql.claimEscalation, type, key, at)).length === 1;
    },

    async append(entry) {
      await execute(
        sql.append,
        entry.alertId,
        entry.type,
        entry.key,
        entry.resourceId ?? null,
        entry.severity,
        entry.outcome,
        JSON.stringify(entry.sinks),
        entry.detail ?? null,
        entry.at,
      );
    },

    async appendMany(entries) {
      if (entries.length === 0) return;
      await execute(sql.appendMany, JSON.stringify(entries.map((e) => ({ ...e, resourceId: e.resourceId ?? null, detail: e.detail ?? null }))));
    },

    async history({ since, type, key, limit = 1000 }) {
      const values: unknown[] = [since, limit];
      if (type !== undefined) values.push(type);
      if (key !== undefined) values.push(key);
      const rows = await query<
        Array<{
          alert_id: string;
          alert_type: string;
          alert_key: string;
          resource_id: string | null;
          severity: string;
          outcome: string;
          sinks: string | null;
          detail: string | null;
          created_at: number;
        }>
      >(sql.history(type !== undefined, key !== undefined), ...values);
      return rows.map((row): AlertHistoryEntry => ({
        alertId: row.alert_id,
        type: row.alert_type,
        key: row.alert_key,
        resourceId: row.resource_id ?? undefined,
        severity: row.severity as Severity,
        outcome: row.outcome as AlertOutcome,
        sinks: row.sinks === null ? [] : (JSON.parse(row.sinks) as string[]),
        detail: row.detail ?? undefined,
        at: num(row.created_at),
      }));
    },

    async countOutcomes({ since }) {
      const rows = await query<Array<{ alert_type: string; severity: string; outcome: string; count: number }>>(sql.countOutcomes, since);
      return rows.map((row): OutcomeCount => ({
        type: row.alert_type,
        severity: row.severity as Severity,
        outcome: row.outcome as AlertOutcome,
        count: num(row.count),
      }));
    },

    async trackDelivery(d) {
      await execute(sql.track, d.deliveryId, d.alertId, d.type, d.key, d.sink, d.payload, d.sentAt, d.deadlineAt);
    },

    async listPendingDeliveries({ sink, limit }) {
      return (await query<DeliveryRow[]>(sql.listPending, sink ?? null, limit)).map(toDelivery);
    },

    async settleDelivery({ deliveryId, status, at }) {
      const rows = await query<DeliveryRow[]>(sql.settle, deliveryId, status, at);
      return rows[0] === undefined ? undefined : toDelivery(rows[0]);
    },

    async takeOverdueDeliveries({ at, limit }) {
      return (await query<DeliveryRow[]>(sql.overdue, at, limit)).map(toDelivery);
    },

    async prune({ historyBefore, idleBefore }) {
      await execute(sql.pruneHistory, historyBefore);
      await execute(sql.pruneDeliveries, idleBefore);
      await execute(sql.pruneLogs, idleBefore);
    },
  };
}
