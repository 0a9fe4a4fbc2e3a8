// `pnpm bench prisma-vs-pg` (or `node --import tsx bench/prisma-vs-pg.bench.ts`): Prisma 7
// against node-postgres for the statements of the app's POST /sms hot path
// (issue 12), same process, same database, same run. One operation is a new owner's first
// text, as the app stores it:
//
// - "prisma, 5 round trips": the app's former shape. An interactive `$transaction`: the
//   route read by `$queryRaw` (with the `set_config` of the transaction's timeout),
//   `tx.client.create`, the inbox upsert by `$queryRaw`; BEGIN and COMMIT.
// - "pg, 5 round trips": the same statements and transaction through `pg` directly, as
//   named prepared statements (`{ name, text, values }`): what the driver alone costs.
// - "pg, 2 round trips": the app's hot path when the sender's row is not guessed
//   (examples/express-app/src/db/inbound-statements.ts): the route read, then one
//   data-modifying statement (client row and inbox row), no BEGIN/COMMIT.
// - "pg, 1 round trip, guessed": the app's hot path for a sender it takes for a new
//   owner: the same statement with the route read inside it.
//
// Each runs at 8 concurrent on a pool of 8, in interleaved rounds (the order rotates, so a
// noisy neighbour hurts every contender alike); reported: the median throughput, the CPU
// of this process per operation (driver and client work: the database's own CPU is not in
// it), and ratios against Prisma. Needs PostgreSQL at DATABASE_URL (a database of its own,
// dropped at the end). Knobs: BENCH_PG_OPS per round (2000), BENCH_PG_ROUNDS (5).
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import type * as Pg from 'pg';
import type * as AdapterPg from '@prisma/adapter-pg';
import { createTestDatabase } from '../tools/test-support/src/test-database.ts';
import { migrate } from '../examples/express-app/src/db/migrator.ts';
import { postgresSession } from '../examples/express-app/src/db/sql-session.ts';
import { PrismaClient } from '../examples/express-app/src/db/generated/client.ts';
import { receiveNewOwner, receiveNewOwnerOnGuess, routeLookup } from '../examples/express-app/src/db/inbound-statements.ts';
import type { Statement } from '../examples/express-app/src/db/named-statement.ts';

const OPS = Number(process.env.BENCH_PG_OPS ?? 2000);
const ROUNDS = Number(process.env.BENCH_PG_ROUNDS ?? 5);
const CONCURRENCY = 8;
const systemNumber = '+15550000000';

const requireFromApp = createRequire(new URL('../examples/express-app/package.json', import.meta.url));
const pg = requireFromApp('pg') as typeof Pg;
const { PrismaPg } = requireFromApp('@prisma/adapter-pg') as typeof AdapterPg;
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child: () => silent };

let serial = 0;
const runTag = randomUUID().slice(0, 8);
function nextSms() {
  const n = serial++;
  return {
    messageSid: `SM${runTag}${n.toString(16).padStart(24, '0')}`,
    from: `+1${200 + (Math.floor(n / 10_000) % 700)}555${String(n % 10_000).padStart(4, '0')}`,
    to: systemNumber,
    body: 'Hi',
  };
}
const payloadOf = (sms: ReturnType<typeof nextSms>) => JSON.stringify({ MessageSid: sms.messageSid, From: sms.from, To: sms.to, Body: sms.body });

// The former transaction's statements (src/domain/routing.ts lookupRoute and
// receive-inbound.ts before issue 12's second slice), as text for both drivers.
const lookupInTransaction = `
WITH "timeout" AS (SELECT set_config('statement_timeout', $3, true)),
     "cleared" AS (DELETE FROM "sms_suppressions" WHERE "from_phone" = $1 AND "to_phone" = $2)
SELECT n."id" AS "numberId", n."role"::text AS "numberRole", n."status"::text AS "numberStatus", n."client_id" AS "numberClientId", n."phone_number" AS "numberPhone",
       CASE WHEN c."id" IS NULL THEN EXISTS (SELECT 1 FROM "outbound_messages" o WHERE o."to_phone" = $2 AND o."from_phone" = $1 AND o."purpose" = 'failsafe') ELSE false END AS "failsafeSent",
       c."id", c."phone", c."business_name" AS "businessName", c."service_area" AS "serviceArea", c."payment_active" AS "paymentActive", c."outbound_paused" AS "outboundPaused",
       c."onboarding_state"::text AS "onboardingState", c."state_entered_at" AS "stateEnteredAt", c."stuck_detected_at" AS "stuckDetectedAt", c."stripe_customer_id" AS "stripeCustomerId",
       c."created_at" AS "createdAt", c."updated_at" AS "updatedAt"
  FROM "timeout"
  LEFT JOIN "pool_numbers" n ON n."phone_number" = $1
  LEFT JOIN "clients" c ON c."phone" = $2`;
const insertClient = `INSERT INTO "clients" ("id", "phone", "updated_at") VALUES ($1, $2, $3) RETURNING *`;
const upsertInbox = `
INSERT INTO "inbound_events" ("id", "message_sid", "payload", "status", "attempts", "processed_at", "reply", "reply_via", "traceparent")
VALUES ($1, $2, $3::jsonb, 'processed', 1, $4, $5, 'twiml', $6)
ON CONFLICT ("message_sid") DO UPDATE
  SET "status" = 'processed', "attempts" = "inbound_events"."attempts" + 1, "processed_at" = EXCLUDED."processed_at", "last_error" = NULL,
      "reply" = EXCLUDED."reply", "reply_via" = EXCLUDED."reply_via"
  WHERE "inbound_events"."id" = EXCLUDED."id" AND "inbound_events"."status" = 'received'
RETURNING "id"`;

type Contender = { readonly name: string; op(): Promise<void> };

async function main(): Promise<void> {
  const database = await createTestDatabase('bench_prisma_pg');
  const pool = new pg.Pool({ connectionString: database.url, max: CONCURRENCY });
  // Prisma's pool is ours too, so both are ended before the database is dropped.
  const prismaPool = new pg.Pool({ connectionString: database.url, max: CONCURRENCY });
  const prisma = new PrismaClient({ adapter: new PrismaPg(prismaPool) });
  try {
    const session = await postgresSession(database.url);
    await migrate(session, silent);
    await session.end();

    const prismaTransaction: Contender = {
      name: 'prisma, 5 round trips',
      async op() {
        const sms = nextSms();
        await prisma.$transaction(
          async (tx) => {
            await tx.$queryRawUnsafe(lookupInTransaction, sms.to, sms.from, '30000');
            await tx.client.create({ data: { phone: sms.from } });
            await tx.$queryRawUnsafe(upsertInbox, randomUUID(), sms.messageSid, payloadOf(sms), new Date(), 'Welcome!', null);
            // The app's options (a busy machine outwaits Prisma's 2 s default for a connection).
          },
          { timeout: 30_000, maxWait: 10_000 },
        );
      },
    };
    const pgTransaction: Contender = {
      name: 'pg, 5 round trips',
      async op() {
        const sms = nextSms();
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await client.query({ name: 'b_lookup', text: lookupInTransaction, values: [sms.to, sms.from, '30000'] });
          await client.query({ name: 'b_client', text: insertClient, values: [randomUUID(), sms.from, new Date()] });
          await client.query({ name: 'b_inbox', text: upsertInbox, values: [randomUUID(), sms.messageSid, payloadOf(sms), new Date(), 'Welcome!', null] });
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        } finally {
          client.release();
        }
      },
    };
    const pgTwoTrips: Contender = {
      name: 'pg, 2 round trips',
      async op() {
        const sms = nextSms();
        const run = (s: Statement) => pool.query({ name: s.name, text: s.text, values: s.values });
        await run(routeLookup(sms, systemNumber));
        await run(
          receiveNewOwner(randomUUID(), { inboxId: randomUUID(), sms, payloadJson: payloadOf(sms), reply: 'Welcome!', traceparent: null, outbox: null }),
        );
      },
    };
    const pgOneTrip: Contender = {
      name: 'pg, 1 round trip, guessed',
      async op() {
        const sms = nextSms();
        await pool.query(
          receiveNewOwnerOnGuess(randomUUID(), { inboxId: randomUUID(), sms, payloadJson: payloadOf(sms), reply: 'Welcome!', traceparent: null, outbox: null }),
        );
      },
    };
    const contenders = [prismaTransaction, pgTransaction, pgTwoTrips, pgOneTrip];

    const runRound = async (c: Contender, ops: number) => {
      let left = ops;
      const cpu = process.cpuUsage();
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (left-- > 0) await c.op();
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      return { perSecond: ops / seconds, cpuMsPerOp: (used.user + used.system) / 1000 / ops };
    };

    for (const c of contenders) await runRound(c, 300); // warm-up: JIT, prepared statements, pools
    const results = new Map<string, Array<{ perSecond: number; cpuMsPerOp: number }>>(contenders.map((c) => [c.name, []]));
    const loadStart = loadavg()[0]!;
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < contenders.length; i++) {
        const c = contenders[(round + i) % contenders.length]!;
        results.get(c.name)!.push(await runRound(c, OPS));
      }
    }
    const loadEnd = loadavg()[0]!;
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const base = median(results.get(prismaTransaction.name)!.map((r) => r.perSecond));
    const baseCpu = median(results.get(prismaTransaction.name)!.map((r) => r.cpuMsPerOp));
    console.log(
      `a new owner's first text, ${CONCURRENCY} concurrent, ${ROUNDS} rounds of ${OPS}; load average ${loadStart.toFixed(1)} -> ${loadEnd.toFixed(1)}`,
    );
    for (const c of contenders) {
      const rs = results.get(c.name)!;
      const perSecond = median(rs.map((r) => r.perSecond));
      const cpu = median(rs.map((r) => r.cpuMsPerOp));
      console.log(
        `${c.name.padEnd(24)} ${perSecond.toFixed(0).padStart(6)} msg/s (${(perSecond / base).toFixed(2)}x)  ` +
          `CPU ${cpu.toFixed(3)} ms/msg (${(cpu / baseCpu).toFixed(2)}x)  rounds ${rs.map((r) => r.perSecond.toFixed(0)).join(' ')}`,
      );
    }
  } finally {
    await prisma.$disconnect().catch(() => {});
    await pool.end().catch(() => {});
    await prismaPool.end().catch(() => {});
    await database.drop();
  }
}

await main();
