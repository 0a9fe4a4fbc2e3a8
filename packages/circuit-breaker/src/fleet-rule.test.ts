// The fleet rule with three real processes on a real (private) redis-server.
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ask, eventually, forkTs, redisUrl, requireRedis, startPrivateRedis, uniquePrefix, waitReady, type PrivateRedis } from '@hardening/test-support';
import { BreakerRegistry } from './breaker-registry.js';
import { resolveFleetRule } from './fleet-rule.js';
import { shareBreakerState } from './redis-shared-state.js';

const redisUp = await requireRedis();
const worker = new URL('../test/fixtures/shared-breaker-worker.ts', import.meta.url);

interface WorkerState {
  state: string;
  nextAttemptAt: number | undefined;
  executions: number;
  status: { connected: boolean; rule: string };
  logs: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('fleet rule options', () => {
  it('defaults to 2 instances within 60 s and rejects nonsense with a TypeError', () => {
    expect(resolveFleetRule(undefined)).toBeUndefined();
    expect(resolveFleetRule({})).toEqual({ minInstances: 2, windowMs: 60_000 });
    expect(() => resolveFleetRule({ minInstances: 0 })).toThrow('Expected `fleet.minInstances` to be a positive integer, got 0.');
    expect(() => resolveFleetRule({ windowMs: Number.NaN })).toThrow('`fleet.windowMs`');
  });
});

describe.skipIf(!redisUp)('fleet rule: what is shared and what is only reported (two registries, shared Redis)', () => {
  it('trips are reported until enough instances agree; decisions by hand are shared at once; a close clears the trips', async () => {
    const prefix = uniquePrefix('cb-fleet-inproc');
    const logger = { warn: () => {}, info: () => {} };
    const clients = [new Redis(redisUrl), new Redis(redisUrl)];
    const registries = [0, 1].map(() => new BreakerRegistry({ defaults: { failureThreshold: 1, cooldownMs: 60_000 } }));
    const shares = registries.map((registry, i) =>
      shareBreakerState(registry, { redis: clients[i]!, prefix, syncIntervalMs: 50, logger, fleet: { minInstances: 2, windowMs: 10_000 } }),
    );
    const [a, b] = [registries[0]!.get('stripe'), registries[1]!.get('stripe')];
    const trips = () => clients[0]!.zcard(`{${prefix}:stripe}:trips`);
    try {
      await eventually(() => shares.every((s) => s.status().connected && s.status().rule === 'fleet'));

      await a.execute(() => Promise.reject(new Error('stripe 500'))).catch(() => {});
      expect(a.state).toBe('open');
      await eventually(async () => (await trips()) === 1);
      await sleep(200); // four sync periods
      expect(b.state).toBe('closed');

      await b.execute(() => Promise.reject(new Error('stripe 500'))).catch(() => {});
      await eventually(() => a.state === 'open' && b.state === 'open' && a.snapshot().nextAttemptAt === b.snapshot().nextAttemptAt);

      a.close(); // by hand: shared at once, and the trips are forgotten
      await eventually(() => b.state === 'closed');
      expect(await trips()).toBe(0);

      b.open(); // by hand, too: no vote needed
      await eventually(() => a.state === 'open');
    } finally {
      await Promise.all(shares.map((s) => s.close()));
      const keys = await clients[0]!.keys(`{${prefix}:*`);
      if (keys.length > 0) await clients[0]!.del(...keys);
      for (const client of clients) client.disconnect();
    }
  });
});

describe.skipIf(!redisUp)('fleet rule across three processes (private redis-server)', () => {
  const cooldownMs = 1500;
  let server: PrivateRedis;
  let workers: ChildProcess[] = [];
  const prefix = uniquePrefix('cb-fleet');
  const state = (w: ChildProcess) => ask<WorkerState>(w, { cmd: 'state' });
  const call = async (w: ChildProcess, fail = false, holdMs?: number) => (await ask<{ outcome: string }>(w, { cmd: 'call', fail, holdMs })).outcome;
  const states = async () => Promise.all(workers.map(state));

  beforeAll(async () => {
    server = await startPrivateRedis();
    const env = {
      REDIS_URL: server.url,
      PREFIX: prefix,
      COOLDOWN_MS: String(cooldownMs),
      FLEET_MIN_INSTANCES: '2',
      SYNC_INTERVAL_MS: '100',
    };
    workers = [0, 1, 2].map(() => forkTs(worker, env));
    await Promise.all(workers.map((w) => waitReady(w, 60_000))); // three tsx start-ups on a busy machine
    await eventually(async () => (await states()).every((s) => s.status.connected && s.status.rule === 'fleet'), 10_000);
  });

  afterAll(async () => {
    await Promise.allSettled(workers.map((w) => ask(w, { cmd: 'stop' })));
    await server?.stop();
  });

  it('one instance failing alone opens only itself; the others keep calling', async () => {
    const [a, b, c] = workers as [ChildProcess, ChildProcess, ChildProcess];
    for (let i = 0; i < 3; i++) expect(await call(a, true)).toBe('failed');
    expect((await state(a)).state).toBe('open');
    // Several sync periods (100 ms) and pub/sub deliveries: a shared open would have arrived.
    await sleep(800);
    expect((await state(b)).state).toBe('closed');
    expect((await state(c)).state).toBe('closed');
    expect(await call(b)).toBe('ok');
    expect(await call(c)).toBe('ok');
    // The lone instance itself stays open: it stops calling through whatever is wrong on its side.
    expect(await call(a)).toBe('refused');
  });

  it('a second instance tripping opens all three (the third never failed); one probe runs across the fleet', async () => {
    const [, b, c] = workers as [ChildProcess, ChildProcess, ChildProcess];
    for (let i = 0; i < 3; i++) expect(await call(b, true)).toBe('failed');
    await eventually(async () => {
      const all = await states();
      return all.every((s) => s.state === 'open') && new Set(all.map((s) => s.nextAttemptAt)).size === 1;
    }, 5000);
    const executions = async () => (await states()).reduce((sum, s) => sum + s.executions, 0);
    const before = await executions();
    expect(await call(c)).toBe('refused');
    expect(await executions()).toBe(before);

    // After the shared cooldown all three want to call at once: exactly one probe runs.
    const { nextAttemptAt } = await state(c);
    await sleep(nextAttemptAt! - Date.now() + 400);
    const outcomes = await Promise.all(workers.map((w) => call(w, false, 1500)));
    expect(outcomes.sort()).toEqual(['ok', 'refused', 'refused']);
    expect(await executions()).toBe(before + 1);
    await eventually(async () => (await states()).every((s) => s.state === 'closed'), 5000);
    expect(await call(c)).toBe('ok');
  });

  it('Redis killed: every instance falls back to its own rule, with a warning, and reports once Redis is back', async () => {
    const [a, b, c] = workers as [ChildProcess, ChildProcess, ChildProcess];
    await server.stop();
    const warning =
      'warn:Redis unreachable: circuit breakers fall back to local state in this process (fleet rule suspended: each opens on its own rule and probes for itself)';
    await eventually(async () => (await states()).every((s) => !s.status.connected && s.status.rule === 'local' && s.logs.includes(warning)), 5000);
    for (let i = 0; i < 3; i++) expect(await call(c, true)).toBe('failed');
    expect((await state(c)).state).toBe('open'); // its own rule still protects it
    expect(await call(a)).toBe('ok');
    expect((await state(b)).state).toBe('closed');

    await server.start();
    await eventually(async () => (await states()).every((s) => s.status.connected && s.status.rule === 'fleet'), 10_000);
    const redis = new Redis(server.url);
    try {
      // c's trip made during the outage is reported now: one instance, below the fleet's 2.
      await eventually(async () => (await redis.zcard(`{${prefix}:twilio_sms}:trips`)) === 1, 5000);
    } finally {
      redis.disconnect();
    }
    await sleep(300);
    expect((await state(a)).state).toBe('closed');
    expect((await state(b)).state).toBe('closed');
    expect((await state(c)).state).toBe('open');
  });
});
