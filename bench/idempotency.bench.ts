// @hardening/idempotency benchmark (run by `pnpm bench`, or `node bench/run.mjs idempotency`
// after `pnpm build`). Not a test: it prints figures and asserts nothing.
//
// 1. Redis (a private redis-server, so other clients of the shared one do not weigh on one
//    side more than the other; BENCH_SHARED_REDIS=1 uses REDIS_URL), one ioredis client:
//    the guard's claim + complete (guard.run) against the raw ioredis `SET NX PX` + `SET`
//    pair of issue 12, and against a raw pair that compares the claim token on every
//    completion (`SET NX PX GET` + the compare-and-set script, which the guard runs only
//    once half the lease has passed), sequential and 64-way concurrent; ops/s, client CPU per
//    op, and the ratios as the median of paired batches (issue 12's goal: guard/raw >= 0.9).
//    The guard's store writes the commands its concurrent callers issue in one tick together,
//    16 per write; the raw sides send each command on its own, as a hand-written pair on
//    ioredis does.
// 2. PostgreSQL through Prisma + adapter-pg: guard claim + complete ops/s.
// 3. Memory store: heap after 1 million distinct keys, against its configured bound.
import { createRequire } from 'node:module';
import type * as IoRedis from 'ioredis';
import type * as Pg from 'pg';
import type * as AdapterPg from '@prisma/adapter-pg';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { startPrivateRedis } from '../tools/test-support/src/private-redis.ts';
import { silentLogger } from '@hardening/core';
import { createIdempotencyGuard, createMemoryStore, createPrismaStore, createRedisStore } from '@hardening/idempotency';

// The integrations are dev dependencies of the package, not of the workspace root.
const requireFromPackage = createRequire(new URL('../packages/idempotency/package.json', import.meta.url));
const { Redis } = requireFromPackage('ioredis') as typeof IoRedis;
// The guarded work is an async function, as callers write it (not a pre-resolved promise).
// eslint-disable-next-line @typescript-eslint/require-await
const work = async <T>(value: T): Promise<T> => value;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const databaseUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

const runId = randomUUID().slice(0, 8);
const rows: { scenario: string; mode: string; ops: number; opsPerSec: number; note: string }[] = [];

async function measure(ops: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < ops; i = next++) await op(i);
    }),
  );
  return ops / ((performance.now() - started) / 1000);
}

async function deleteKeys(redis: InstanceType<typeof Redis>, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = nextCursor;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

/** The Redis the figures run on: a private redis-server unless BENCH_SHARED_REDIS=1. */
async function benchServer(): Promise<{ url: string; label: string; stop: () => Promise<void> }> {
  if (process.env.BENCH_SHARED_REDIS !== '1') {
    try {
      const server = await startPrivateRedis();
      return { url: server.url, label: `a private redis-server (port ${server.port})`, stop: () => server.stop() };
    } catch {
      // No redis-server binary here: the shared server, said so in the output.
    }
  }
  return { url: redisUrl, label: `the shared server at ${redisUrl} (other clients' load included)`, stop: async () => {} };
}

// The store's compare-and-set on the claim token (packages/idempotency/src/redis-store.ts,
// completeScript): what a hand-written pair that compares the token on every completion runs.
const completeScript = `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1])) == ARGV[1] then
  redis.call('SET', KEYS[1], 'C' .. string.sub(v, 2) .. '\\n' .. ARGV[3], 'PX', ARGV[2])
  return 1
end
return 0
`;

/** Median of a list of numbers. */
const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function benchRedis(): Promise<void> {
  const server = await benchServer();
  const redis = new Redis(server.url);
  try {
    await redis.ping();
  } catch {
    console.log(`Redis not reachable at ${server.url}: Redis figures skipped`);
    redis.disconnect();
    await server.stop();
    return;
  }
  console.log(`Redis figures on ${server.label}, one ioredis client for every side`);
  const prefix = `bench:idem:${runId}:`;
  const guard = createIdempotencyGuard({ store: createRedisStore({ redis, prefix: `${prefix}guard:` }), logger: silentLogger, retentionMs: 300_000 });
  const completeSha = (await redis.script('LOAD', completeScript)) as string;
  // Three sides, on the same client: the raw pair of the issue (claim, then overwrite: no
  // check that the claim is still ours), the raw pair with the guard's guarantee (the same
  // SET NX GET and compare-and-set script, hand-written), and the guard.
  const sides = {
    raw: async (key: string) => {
      await redis.set(`${prefix}raw:{${key}}`, `P\n${randomUUID()}\n`, 'PX', 60_000, 'NX');
      await redis.set(`${prefix}raw:{${key}}`, 'C\n{"v":1}', 'PX', 300_000);
    },
    'raw + CAS': async (key: string) => {
      const token = randomUUID();
      await redis.set(`${prefix}cas:{${key}}`, `P\n${token}\n`, 'PX', 60_000, 'NX', 'GET');
      await redis.evalsha(completeSha, 1, `${prefix}cas:{${key}}`, `P\n${token}\n`, 300_000, '{"v":1}');
    },
    guard: (key: string) => guard.run(key, () => work(1)),
  } satisfies Record<string, (key: string) => Promise<unknown>>;
  type Side = keyof typeof sides;
  const names = Object.keys(sides) as Side[];

  const summary: string[] = [];
  for (const [mode, concurrency, batch, batches] of [
    ['sequential', 1, 500, 30],
    ['64 concurrent', 64, 2_500, 30],
  ] as const) {
    // Warm up every side (script cache, JIT). Then run the sides' batches back to back,
    // rotating which goes first, and report the median of the per-batch ratios: load from
    // anything else on the machine hits the sides of one batch alike.
    for (const name of names) await measure(2000, concurrency, (i) => sides[name](`warm-${mode}-${name}-${i}`));
    const seconds = Object.fromEntries(names.map((n) => [n, 0])) as Record<Side, number>;
    const cpu = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Side, number[]>;
    const opsOf = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Side, number[]>;
    for (let b = 0; b < batches; b++) {
      const order = [...names.slice(b % names.length), ...names.slice(0, b % names.length)];
      for (const name of order) {
        const cpuBefore = process.cpuUsage();
        const ops = await measure(batch, concurrency, (i) => sides[name](`${mode}-${name}-${b}-${i}`));
        const used = process.cpuUsage(cpuBefore);
        cpu[name].push((used.user + used.system) / batch);
        opsOf[name].push(ops);
        seconds[name] += batch / ops;
      }
    }
    const ratio = (of: Side, to: Side) => median(opsOf[of].map((ops, b) => ops / opsOf[to][b]!));
    const ops = batch * batches;
    for (const name of names) {
      rows.push({
        scenario: `Redis ${name === 'guard' ? 'guard claim + complete' : name === 'raw' ? 'raw SET NX PX + SET' : 'raw SET NX PX GET + CAS script'}`,
        mode,
        ops,
        opsPerSec: ops / seconds[name],
        note: `client CPU ${median(cpu[name]).toFixed(1)} µs/op${name === 'guard' ? `; guard/raw ${ratio('guard', 'raw').toFixed(2)}, guard/(raw + CAS) ${ratio('guard', 'raw + CAS').toFixed(2)}` : ''}`,
      });
    }
    summary.push(
      `${mode}: guard/raw ${ratio('guard', 'raw').toFixed(2)} (goal >= 0.90), guard/(raw + CAS) ${ratio('guard', 'raw + CAS').toFixed(2)}, (raw + CAS)/raw ${ratio('raw + CAS', 'raw').toFixed(2)}`,
    );
  }
  console.log('');
  console.log(`idempotency guard on Redis, ratio of throughputs, median of 30 paired batches (load average now ${loadAverage()}):`);
  for (const line of summary) console.log(`  ${line}`);
  await deleteKeys(redis, `${prefix}*`);
  redis.disconnect();
  await server.stop();
}

async function benchPostgres(): Promise<void> {
  const pg = requireFromPackage('pg') as typeof Pg;
  const { PrismaPg } = requireFromPackage('@prisma/adapter-pg') as typeof AdapterPg;
  const schema = `bench_idem_${runId}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  try {
    await admin.connect();
  } catch {
    console.log(`PostgreSQL not reachable at ${databaseUrl}: PostgreSQL figures skipped`);
    return;
  }
  // The generated client of the package's tests (scripts/generate-test-client.mjs).
  const { generateTestClient } = await import('../packages/idempotency/scripts/generate-test-client.mjs');
  generateTestClient();
  const { PrismaClient } = await import('../packages/idempotency/test/generated/client/client.ts');
  const { readFileSync, readdirSync } = await import('node:fs');
  const migrations = new URL('../packages/idempotency/prisma/migrations/', import.meta.url);
  await admin.query(`CREATE SCHEMA "${schema}"`);
  await admin.query(`SET search_path TO "${schema}"`);
  for (const dir of readdirSync(migrations).sort()) await admin.query(readFileSync(new URL(`${dir}/migration.sql`, migrations), 'utf8'));
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, options: `-c search_path="${schema}"`, max: 16 }, { schema }) });
  try {
    const guard = createIdempotencyGuard({ store: createPrismaStore({ prisma }), logger: silentLogger });
    await measure(500, 16, (i) => guard.run(`warm-${i}`, () => work(1)));
    for (const [mode, concurrency, ops] of [
      ['sequential', 1, 2_000],
      ['16 concurrent (pool 16)', 16, 10_000],
    ] as const) {
      const opsPerSec = await measure(ops, concurrency, (i) => guard.run(`${mode}-${i}`, () => work(1)));
      rows.push({ scenario: 'PostgreSQL guard claim + complete (Prisma + adapter-pg)', mode, ops, opsPerSec, note: '2 statements per run' });
    }
  } finally {
    await prisma.$disconnect();
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    await admin.end();
  }
}

async function benchMemory(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const heap = () => {
    gc?.();
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  const maxEntries = 100_000;
  const baseline = heap();
  const store = createMemoryStore({ maxEntries });
  const guard = createIdempotencyGuard({ store, logger: silentLogger });
  const keys = 1_000_000;
  let peak = 0;
  const opsPerSec = await measure(keys, 1, async (i) => {
    await guard.run(`evt_${i.toString(36).padStart(8, '0')}`, () => work(i));
    if (i % 100_000 === 99_999) peak = Math.max(peak, store.stats().size);
  });
  const used = heap() - baseline;
  const stats = store.stats();
  rows.push({
    scenario: 'memory store, 1M distinct keys',
    mode: 'sequential',
    ops: keys,
    opsPerSec,
    note: `entries ${stats.size}/${maxEntries} (peak ${peak}), evicted ${stats.evicted}, heap +${(used / 1048576).toFixed(1)} MiB (${Math.round(used / stats.size)} B/entry)${gc === undefined ? ' [run with --expose-gc for exact heap]' : ''}`,
  });
}

// BENCH_IDEMPOTENCY_ONLY=redis (or postgres, memory; comma-separated) runs only those parts.
const only = process.env.BENCH_IDEMPOTENCY_ONLY?.split(',');
if (only === undefined || only.includes('redis')) await benchRedis();
if (only === undefined || only.includes('postgres')) await benchPostgres();
if (only === undefined || only.includes('memory')) await benchMemory();

console.log('');
console.log(`load average at the end: ${loadAverage()}`);
console.log('| scenario | mode | ops | ops/s | note |');
console.log('| --- | --- | ---: | ---: | --- |');
for (const row of rows) console.log(`| ${row.scenario} | ${row.mode} | ${row.ops} | ${Math.round(row.opsPerSec).toLocaleString('en-US')} | ${row.note} |`);
