import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ask,
  eventually,
  forkTs,
  redisUrl,
  requireRedis,
  startPrivateRedis,
  startTcpProxy,
  uniquePrefix,
  waitReady,
  type PrivateRedis,
} from '@hardening/test-support';
import { BreakerRegistry } from './breaker-registry.js';
import { shareBreakerState } from './redis-shared-state.js';

const redisUp = await requireRedis();
const worker = new URL('../test/fixtures/shared-breaker-worker.ts', import.meta.url);

interface WorkerState {
  state: string;
  executions: number;
  status: { connected: boolean };
  logs: string[];
}

describe.skipIf(!redisUp)('shared breaker state across two processes (real Redis)', () => {
  const cooldownMs = 1500;
  const prefix = uniquePrefix('cb');
  let a: ChildProcess;
  let b: ChildProcess;

  beforeAll(async () => {
    const env = { REDIS_URL: redisUrl, PREFIX: prefix, COOLDOWN_MS: String(cooldownMs) };
    a = forkTs(worker, env);
    b = forkTs(worker, env);
    await Promise.all([waitReady(a), waitReady(b)]);
  });

  afterAll(async () => {
    await Promise.allSettled([ask(a, { cmd: 'stop' }), ask(b, { cmd: 'stop' })]);
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`{${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('one process opening stops the other from calling; one probe decides recovery for both', async () => {
    for (let i = 0; i < 3; i++) expect((await ask<{ outcome: string }>(a, { cmd: 'call', fail: true })).outcome).toBe('failed');
    expect((await ask<WorkerState>(a, { cmd: 'state' })).state).toBe('open');

    // B never failed a call, yet refuses without calling Twilio.
    await eventually(async () => (await ask<WorkerState>(b, { cmd: 'state' })).state === 'open', 3000);
    const before = (await ask<WorkerState>(b, { cmd: 'state' })).executions;
    expect((await ask<{ outcome: string }>(b, { cmd: 'call' })).outcome).toBe('refused');
    expect((await ask<WorkerState>(b, { cmd: 'state' })).executions).toBe(before);

    // After the cooldown both processes want to call at once: exactly one probe runs.
    await new Promise((r) => setTimeout(r, cooldownMs + 300));
    const [ra, rb] = await Promise.all([
      ask<{ outcome: string }>(a, { cmd: 'call', holdMs: 1500 }),
      ask<{ outcome: string }>(b, { cmd: 'call', holdMs: 1500 }),
    ]);
    expect([ra.outcome, rb.outcome].sort()).toEqual(['ok', 'refused']);
    const executions = async () => (await ask<WorkerState>(a, { cmd: 'state' })).executions + (await ask<WorkerState>(b, { cmd: 'state' })).executions;
    expect(await executions()).toBe(3 + 1);

    // The probe succeeded: both close.
    await eventually(async () => (await ask<WorkerState>(a, { cmd: 'state' })).state === 'closed', 3000);
    await eventually(async () => (await ask<WorkerState>(b, { cmd: 'state' })).state === 'closed', 3000);
    expect((await ask<{ outcome: string }>(b, { cmd: 'call' })).outcome).toBe('ok');
  });
});

describe.skipIf(!redisUp)('shared breaker state when Redis goes away (private redis-server)', () => {
  let server: PrivateRedis;
  beforeAll(async () => {
    server = await startPrivateRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('falls back to local state with a warning, and shares again once Redis is back', async () => {
    const warnings: string[] = [];
    const logger = { warn: (_: object, msg?: string) => warnings.push(msg ?? ''), info: () => {} };
    const prefix = uniquePrefix('cb-outage');
    const registries = [0, 1].map(() => new BreakerRegistry({ defaults: { failureThreshold: 1, cooldownMs: 200 } }));
    const clients = registries.map(() => {
      const client = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
      client.on('error', () => {}); // the outage is the point of this test
      return client;
    });
    const shares = registries.map((registry, i) =>
      shareBreakerState(registry, { redis: clients[i]!, prefix, syncIntervalMs: 50, commandTimeoutMs: 300, logger }),
    );
    const [first, second] = [registries[0]!.get('slack'), registries[1]!.get('slack')];
    await eventually(() => shares.every((s) => s.status().connected));

    await server.stop();
    await eventually(() => !shares[0]!.status().connected, 3000);
    await first.execute(() => Promise.reject(new Error('slack 500'))).catch(() => {});
    expect(first.state).toBe('open');
    expect(second.state).toBe('closed'); // nothing is shared during the outage
    expect(warnings.some((w) => w.includes('fall back to local state'))).toBe(true);
    await new Promise((r) => setTimeout(r, 250));
    // The cooldown ended with Redis down: the process probes on its own instead of waiting forever.
    await expect(first.execute(() => Promise.resolve('ok'))).resolves.toBe('ok');
    expect(first.state).toBe('closed');

    await server.start();
    await eventually(() => shares.every((s) => s.status().connected), 5000);
    await first.execute(() => Promise.reject(new Error('slack 500'))).catch(() => {});
    await eventually(() => second.state === 'open', 3000);

    await Promise.all(shares.map((s) => s.close()));
    for (const client of clients) client.disconnect();
  });

  it('a change made while Redis was down is shared once it is back', async () => {
    const prefix = uniquePrefix('cb-catchup');
    const logger = { warn: () => {}, info: () => {} };
    const registries = [0, 1].map(() => new BreakerRegistry({ defaults: { failureThreshold: 1, cooldownMs: 60_000 } }));
    const clients = registries.map(() => {
      const client = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
      client.on('error', () => {});
      return client;
    });
    const shares = registries.map((registry, i) =>
      shareBreakerState(registry, { redis: clients[i]!, prefix, syncIntervalMs: 50, commandTimeoutMs: 300, logger }),
    );
    const [first, second] = [registries[0]!.get('openai'), registries[1]!.get('openai')];
    await eventually(() => shares.every((s) => s.status().connected));
    await server.stop();
    await eventually(() => !shares[0]!.status().connected, 3000);
    first.open();
    await server.start();
    await eventually(() => second.state === 'open', 5000);
    expect(second.snapshot().nextAttemptAt).toBe(first.snapshot().nextAttemptAt);
    await Promise.all(shares.map((s) => s.close()));
    for (const client of clients) client.disconnect();
  });
});

describe.skipIf(!redisUp)('shared breaker state when Redis hangs (TCP proxy that forwards nothing)', () => {
  // A hung Redis keeps its connection "ready" (ioredis sees no close): an election for the probe
  // lease would wait its command timeout, refusing every call meanwhile. Once a command has
  // failed, the process probes on its own at the cooldown's end, as with Redis gone. (Found
  // with the suite under load: ioredis's reconnect loop left the status at "connecting", which
  // the election took for usable, for part of each 50 ms retry.)
  it('a process that found Redis unresponsive probes on its own when the cooldown ends, with no wait for an election', async () => {
    const target = new URL(redisUrl);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 6379));
    const cooldownMs = 2500;
    const registry = new BreakerRegistry({ defaults: { failureThreshold: 1, cooldownMs } });
    const client = new Redis(proxy.url(redisUrl), { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    client.on('error', () => {});
    // Each command waits 1 s for the hung Redis: an election started at the cooldown's end would
    // hold calls for that long.
    const share = shareBreakerState(registry, {
      redis: client,
      prefix: uniquePrefix('cb-hang'),
      syncIntervalMs: 50,
      commandTimeoutMs: 1000,
      logger: { warn: () => {}, info: () => {} },
    });
    try {
      const breaker = registry.get('twilio');
      await eventually(() => share.status().connected);
      proxy.hang();
      await breaker.execute(() => Promise.reject(new Error('twilio 500'))).catch(() => {});
      expect(breaker.state).toBe('open');
      await eventually(() => !share.status().connected, 5000); // the publish timed out: Redis known unresponsive
      const openedFor = Date.now() - breaker.snapshot().openedAt!;
      await new Promise((r) => setTimeout(r, Math.max(0, cooldownMs - openedFor) + 300)); // just past the cooldown
      await expect(breaker.execute(() => Promise.resolve('ok'))).resolves.toBe('ok');
      expect(breaker.state).toBe('closed');
    } finally {
      proxy.restore();
      await share.close();
      client.disconnect();
      await proxy.close();
    }
  }, 20_000);
});
