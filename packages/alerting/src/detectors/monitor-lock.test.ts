// Several monitors (as several app instances would run them) share a lock: each round
// runs on exactly one of them. Real Redis and real PostgreSQL, real timers, short rounds.
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseUrl, eventually, redisUrl, requirePostgres, requireRedis, uniquePrefix } from '@hardening/test-support';
import { silentLogger } from '@hardening/core';
import { createPostgresMonitorLock, createRedisMonitorLock } from './monitor-lock.js';
import type { MonitorLock } from './monitor-lock.js';
import { RuntimeMonitor } from './runtime-monitor.js';

const redisUp = await requireRedis();
const postgresUp = await requirePostgres();
const intervalMs = 300;

function monitors(count: number, lockFor: (index: number) => MonitorLock, name: string) {
  const runs: Array<{ round: number; by: number }> = [];
  const list = Array.from({ length: count }, (_, index) => {
    const monitor = new RuntimeMonitor({ name, intervalMs, jitterMs: 30, lock: lockFor(index), logger: silentLogger });
    monitor.register('probe', ({ round }) => {
      runs.push({ round, by: index });
    });
    return monitor;
  });
  return { runs, list };
}

function roundsRunTwice(runs: Array<{ round: number }>): number[] {
  const seen = new Map<number, number>();
  for (const { round } of runs) seen.set(round, (seen.get(round) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([round]) => round);
}

describe.skipIf(!redisUp)('Redis monitor lock (SET NX PX per round)', () => {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const prefix = uniquePrefix('monitor-lock');
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('three instances: every round runs exactly once', async () => {
    const { runs, list } = monitors(3, () => createRedisMonitorLock({ redis, prefix }), 'stuck-check');
    await Promise.all(list.map((m) => m.start()));
    await eventually(() => new Set(runs.map((r) => r.round)).size >= 6, 15_000);
    await Promise.all(list.map((m) => m.stop()));
    expect(roundsRunTwice(runs)).toEqual([]);
    expect(list.every((m) => m.status().lastRound !== undefined)).toBe(true);
  });
});

describe.skipIf(!postgresUp)('PostgreSQL monitor lock (session advisory lock per round)', () => {
  const clients: pg.Client[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  });

  it('three instances: every round runs exactly once, also after one of them stops', async () => {
    for (let i = 0; i < 3; i++) {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      clients.push(client);
    }
    const name = `lock-test-${process.pid}-${Date.now()}`;
    const { runs, list } = monitors(3, (index) => createPostgresMonitorLock({ client: clients[index]! }), name);
    await Promise.all(list.map((m) => m.start()));
    await eventually(() => new Set(runs.map((r) => r.round)).size >= 4, 15_000);
    const stopped = runs.at(-1)!.by;
    await list[stopped]!.stop();
    const before = runs.length;
    await eventually(() => runs.length >= before + 4, 15_000);
    expect(runs.slice(before).some((r) => r.by === stopped)).toBe(false);
    await Promise.all(list.map((m) => m.stop()));
    expect(roundsRunTwice(runs)).toEqual([]);
  });

  it('refuses a pool: the lock belongs to one session', () => {
    const pool = new pg.Pool({ connectionString: databaseUrl });
    expect(() => createPostgresMonitorLock({ client: pool })).toThrow(/not a pg.Pool/);
    void pool.end();
  });
});
