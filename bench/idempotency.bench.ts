// @hardening/idempotency benchmark (run by `pnpm bench`, or `node bench/run.mjs idempotency`
// after `pnpm build`). Not a test: it prints figures and asserts nothing.
//
// 1. Redis, same local server, one ioredis client: the guard's claim + complete
//    (guard.run) against a raw ioredis `SET NX PX` + `SET` pair, sequential and 64-way
//    concurrent; ops/s and guard/raw ratio (target >= 0.8: no extra round trips).
// 2. PostgreSQL through Prisma + adapter-pg: guard claim + complete ops/s.
// 3. Memory store: heap after 1 million distinct keys, against its configured bound.
import { createRequire } from 'node:module';
import type * as IoRedis from 'ioredis';
import type * as Pg from 'pg';
import type * as AdapterPg from '@prisma/adapter-pg';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { silentLogger } from '../packages/core/dist/index.js';
import { createIdempotencyGuard, createMemoryStore, createPrismaStore, createRedisStore } from '../packages/idempotency/dist/index.js';

// The integrations are dev dependencies of the package, not of the workspace root.
const requireFromPackage = createRequire(new URL('../packages/idempotency/package.json', import.meta.url));
const { Redis } = requireFromPackage('ioredis') as typeof IoRedis;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
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

async function benchRedis(): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    await redis.ping();
  } catch {
    console.log(`Redis not reachable at ${redisUrl}: Redis figures skipped`);
    redis.disconnect();
    return;
  }
  const prefix = `bench:idem:${runId}:`;
  const guard = createIdempotencyGuard({ store: createRedisStore({ redis, prefix: `${prefix}guard:` }), logger: silentLogger, retentionMs: 300_000 });
  const raw = async (key: string) => {
    await redis.set(`${prefix}raw:{${key}}`, `P\n${randomUUID()}\n`, 'PX', 60_000, 'NX');
    await redis.set(`${prefix}raw:{${key}}`, 'C\n{"v":1}', 'PX', 300_000);
  };
  const viaGuard = (key: string) => guard.run(key, async () => 1);

  for (const [mode, concurrency, batch, batches] of [
    ['sequential', 1, 500, 30],
    ['64 concurrent', 64, 2_500, 30],
  ] as const) {
    // Warm up both paths (script cache, JIT). Then run raw and guard batches in pairs,
    // alternating which goes first, and report the median of the pairs' ratios: load from
    // anything else on the machine hits both sides of a pair alike.
    await measure(2000, concurrency, (i) => raw(`warm-${mode}-${i}`));
    await measure(2000, concurrency, (i) => viaGuard(`warm-${mode}-${i}`));
    let rawSeconds = 0;
    let guardSeconds = 0;
    const ratios: number[] = [];
    for (let b = 0; b < batches; b++) {
      const runRaw = async () => measure(batch, concurrency, (i) => raw(`${mode}-${b}-${i}`));
      const runGuard = async () => measure(batch, concurrency, (i) => viaGuard(`${mode}-${b}-${i}`));
      let rawOps: number;
      let guardOps: number;
      if (b % 2 === 0) {
        rawOps = await runRaw();
        guardOps = await runGuard();
      } else {
        guardOps = await runGuard();
        rawOps = await runRaw();
      }
      rawSeconds += batch / rawOps;
      guardSeconds += batch / guardOps;
      ratios.push(guardOps / rawOps);
    }
    ratios.sort((a, b) => a - b);
    const median = ratios[Math.floor(ratios.length / 2)]!;
    const ops = batch * batches;
    rows.push({ scenario: 'Redis raw SET NX PX + SET', mode, ops, opsPerSec: ops / rawSeconds, note: '' });
    rows.push({
      scenario: 'Redis guard claim + complete',
      mode,
      ops,
      opsPerSec: ops / guardSeconds,
      note: `ratio guard/raw: median of ${batches} paired batches ${median.toFixed(2)} (overall ${(rawSeconds / guardSeconds).toFixed(2)}; target >= 0.80)`,
    });
  }
  await deleteKeys(redis, `${prefix}*`);
  redis.disconnect();
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
    await measure(500, 16, (i) => guard.run(`warm-${i}`, async () => 1));
    for (const [mode, concurrency, ops] of [
      ['sequential', 1, 2_000],
      ['16 concurrent (pool 16)', 16, 10_000],
    ] as const) {
      const opsPerSec = await measure(ops, concurrency, (i) => guard.run(`${mode}-${i}`, async () => 1));
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
    await guard.run(`evt_${i.toString(36).padStart(8, '0')}`, async () => i);
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

await benchRedis();
await benchPostgres();
await benchMemory();

console.log('');
console.log('| scenario | mode | ops | ops/s | note |');
console.log('| --- | --- | ---: | ---: | --- |');
for (const row of rows) console.log(`| ${row.scenario} | ${row.mode} | ${row.ops} | ${Math.round(row.opsPerSec).toLocaleString('en-US')} | ${row.note} |`);
