// Three separate Node processes share one store: exactly one of 100 concurrent calls with
// one key runs; a process SIGKILLed mid-run frees its key after the lease.
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@hardening/core';
import { ask, forkTs, redisUrl, requirePostgres, requireRedis, uniquePrefix, waitReady } from '@hardening/test-support';
import { createIdempotencyGuard, createPrismaStore, createRedisStore, isIdempotencyInProgressError, type IdempotencyStore } from '../src/index.js';
import { createSchema, dropSchema, postgresClient, uniqueSchema } from './support/databases.js';

const redisUp = await requireRedis();
const postgresUp = await requirePostgres();
const worker = new URL('./fixtures/guard-worker.ts', import.meta.url);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Counts {
  executed: number;
  replayed: number;
  inProgress: number;
  failed: number;
}

interface Backend {
  env: Record<string, string>;
  store: IdempotencyStore;
  effects(key: string): Promise<number>;
  close(): Promise<void>;
}

function redisBackend(): Promise<Backend> {
  const prefix = uniquePrefix('idem-mp');
  const redis = new Redis(redisUrl);
  return Promise.resolve({
    env: { STORE: 'redis', REDIS_URL: redisUrl, PREFIX: prefix },
    store: createRedisStore({ redis, prefix: `${prefix}:` }),
    effects: async (key) => Number((await redis.get(`${prefix}:effects:${key}`)) ?? 0),
    close: async () => {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  });
}

async function postgresBackend(): Promise<Backend> {
  const schema = uniqueSchema('mp');
  await createSchema(schema);
  const prisma = postgresClient(schema, 4);
  return {
    env: { STORE: 'postgres', SCHEMA: schema, PREFIX: schema },
    store: createPrismaStore({ prisma }),
    effects: (key) => prisma.testOrder.count({ where: { eventId: key } }),
    close: async () => {
      await prisma.$disconnect();
      await dropSchema(schema);
    },
  };
}

for (const [name, up, open] of [
  ['Redis', redisUp, redisBackend],
  ['PostgreSQL (Prisma + adapter-pg)', postgresUp, postgresBackend],
] as const) {
  describe.skipIf(!up)(`three processes on ${name}`, () => {
    let backend: Backend;
    let workers: ChildProcess[] = [];

    beforeAll(async () => {
      backend = await open();
      workers = [0, 1, 2].map(() => forkTs(worker, backend.env));
      await Promise.all(workers.map((w) => waitReady(w, 60_000)));
    }, 120_000);

    afterAll(async () => {
      await Promise.allSettled(workers.filter((w) => w.exitCode === null && w.signalCode === null).map((w) => ask(w, { cmd: 'stop' })));
      await backend?.close();
    });

    it('100 concurrent calls with one key: exactly one fn runs, the other 99 get the duplicate outcome', async () => {
      const key = 'evt_burst';
      const results = await Promise.all(workers.map((w, i) => ask<Counts>(w, { cmd: 'burst', key, n: i === 0 ? 34 : 33, holdMs: 500 }, 30_000)));
      const total = results.reduce((sum, r) => ({
        executed: sum.executed + r.executed,
        replayed: sum.replayed + r.replayed,
        inProgress: sum.inProgress + r.inProgress,
        failed: sum.failed + r.failed,
      }));
      expect(total.executed).toBe(1);
      expect(total.failed).toBe(0);
      expect(total.inProgress + total.replayed).toBe(99);
      expect(await backend.effects(key)).toBe(1);
      // Afterwards every duplicate is a replay.
      const again = await ask<Counts>(workers[2]!, { cmd: 'burst', key, n: 5, holdMs: 0 });
      expect(again).toMatchObject({ executed: 0, replayed: 5, inProgress: 0, failed: 0 });
      expect(await backend.effects(key)).toBe(1);
    }, 60_000);

    it('a process SIGKILLed mid-run: the key is claimable again after the lease, and the retry runs once', async () => {
      const key = 'evt_crash';
      const leaseMs = 1500;
      const victim = workers[1]!;
      await ask(victim, { cmd: 'hang', key, leaseMs });
      const exited = new Promise((resolve) => victim.once('exit', resolve));
      victim.kill('SIGKILL');
      await exited;

      const guard = createIdempotencyGuard({ store: backend.store, logger: silentLogger });
      let runs = 0;
      const retry = () => guard.execute(key, () => Promise.resolve(++runs));
      // Still held: the dead process's lease has not ended.
      await expect(retry()).rejects.toSatisfy(isIdempotencyInProgressError);
      await sleep(leaseMs + 300);
      expect(await retry()).toEqual({ status: 'executed', value: 1, stored: true });
      expect(await retry()).toEqual({ status: 'replayed', value: 1, stored: true });
      expect(runs).toBe(1);
    }, 30_000);
  });
}
