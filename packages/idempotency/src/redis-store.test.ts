// Redis-specific behaviour: an outage in the middle of a run (a TCP proxy in front of the
// shared Redis is cut, so the data survives), a hung Redis, and the key layout.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { redisUrl, requireRedis, startPrivateRedis, startTcpProxy, uniquePrefix, type TcpProxy } from '@hardening/test-support';
import { recordingLogger } from '../test/support/guard-helpers.js';
import { createIdempotencyGuard } from './guard.js';
import { createRedisStore } from './redis-store.js';
import { isIdempotencyStoreError, type IdempotencyStoreError } from './errors/idempotency-store-error.js';

const redisUp = await requireRedis();

describe.skipIf(!redisUp)('Redis store when Redis becomes unreachable mid-run', () => {
  let proxy: TcpProxy;
  let redis: Redis;
  let direct: Redis;
  const prefix = `${uniquePrefix('idem-outage')}:`;

  beforeAll(async () => {
    const target = new URL(redisUrl);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 6379));
    redis = new Redis(proxy.url(redisUrl), { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    redis.on('error', () => {}); // connection errors are expected here; commands report them
    direct = new Redis(redisUrl);
    await redis.ping();
  });

  afterAll(async () => {
    redis?.disconnect();
    const keys = await direct.keys(`${prefix}*`);
    if (keys.length > 0) await direct.del(...keys);
    direct?.disconnect();
    await proxy?.close();
  });

  it('typed errors during the outage, correct behaviour after, no double execution of a run claimed before it', async () => {
    const { logger, lines } = recordingLogger();
    const guard = createIdempotencyGuard({ store: createRedisStore({ redis, prefix, commandTimeoutMs: 500 }), logger, leaseMs: 15_000 });
    const runs: Record<string, number> = { before: 0, during: 0 };
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const claimedBefore = guard.execute('evt_before', async () => {
      runs.before!++;
      await gate;
      return 'reply-before';
    });
    await vi.waitFor(() => expect(runs.before).toBe(1), { timeout: 10_000, interval: 5 }); // claimed, and running

    proxy.cut();
    const started = Date.now();
    for (const key of ['evt_during', 'evt_before']) {
      const error = await guard
        .run(key, () => {
          runs.during!++;
          return Promise.resolve();
        })
        .catch((e: unknown) => e);
      expect(isIdempotencyStoreError(error)).toBe(true);
      expect((error as IdempotencyStoreError).operation).toBe('claim');
    }
    // Two claims, each bounded by commandTimeoutMs (500 ms): the budget plus a 2 s margin for a busy machine.
    expect(Date.now() - started).toBeLessThan(2 * 500 + 2000);
    expect(runs.during).toBe(0);

    // The run claimed before the outage finishes while Redis is still away: completing is
    // retried until Redis is back, within the lease.
    finish();
    await vi.waitFor(() => expect(lines.some((l) => l.level === 'warn' && l.msg?.includes('failed to record a completed run'))).toBe(true), {
      timeout: 10_000,
    });
    proxy.restore();
    expect(await claimedBefore).toEqual({ status: 'executed', value: 'reply-before', stored: true });
    expect(lines.some((l) => l.level === 'warn' && l.msg?.includes('failed to record a completed run'))).toBe(true);

    // After the outage: the earlier run replays, the refused one processes once.
    expect(await guard.execute('evt_before', () => Promise.resolve('again'))).toEqual({ status: 'replayed', value: 'reply-before', stored: true });
    expect(await guard.run('evt_during', () => Promise.resolve(++runs.during!))).toBe(1);
    expect(await guard.run('evt_during', () => Promise.resolve(++runs.during!))).toBe(1);
    expect(runs).toEqual({ before: 1, during: 1 });
  }, 20_000);

  it('a hung Redis (connection open, no answers) fails within commandTimeoutMs', async () => {
    const guard = createIdempotencyGuard({ store: createRedisStore({ redis, prefix, commandTimeoutMs: 300 }), logger: recordingLogger().logger });
    proxy.hang();
    try {
      const started = Date.now();
      const error = await guard.run('evt_hung', () => Promise.resolve('x')).catch((e: unknown) => e);
      expect(isIdempotencyStoreError(error)).toBe(true);
      expect((error as Error).message).toContain('did not answer within 300 ms');
      // A deadline is behaviour: the hang is answered long before any default (generous margin for a busy machine).
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      proxy.restore();
    }
    // Once the proxy answers again the store recovers (ioredis may first drop the hung connection).
    await vi.waitFor(async () => expect(await guard.run('evt_hung', () => Promise.resolve('after'))).toBe('after'), { timeout: 10_000, interval: 50 });
  }, 20_000);
});

describe.skipIf(!redisUp)('Redis store: a claim that reaches Redis after its timeout', () => {
  it('is released right behind it: the key is not held for the lease by a claim nobody owns', async () => {
    // A private server: CLIENT PAUSE holds every client's writes, which must not reach other tests.
    const server = await startPrivateRedis();
    const redis = new Redis(server.url);
    const admin = new Redis(server.url);
    try {
      const store = createRedisStore({ redis, prefix: 'late:', commandTimeoutMs: 300 });
      await redis.ping();
      // Redis takes the claim but runs it only after the pause (as after a stall, or from
      // ioredis's offline queue once a restarted server is back): the caller has given up.
      await admin.call('CLIENT', 'PAUSE', '1500', 'WRITE');
      const error = await store.claim({ key: 'evt_late', token: 'late-token', fingerprint: 'fp', leaseMs: 60_000 }).catch((e: unknown) => e);
      expect((error as Error).message).toContain('did not answer within 300 ms');
      // A write of our own returns once the pause is over: the claim has landed by then, and
      // the release sent behind it on the same connection runs next.
      await admin.set('late:probe', '1');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await admin.exists('late:{evt_late}')).toBe(0);
      expect(await store.claim({ key: 'evt_late', token: 'next-token', fingerprint: 'fp', leaseMs: 60_000 })).toEqual({ status: 'claimed' });
    } finally {
      redis.disconnect();
      admin.disconnect();
      await server.stop();
    }
  }, 30_000);
});

describe.skipIf(!redisUp)('Redis store layout', () => {
  let redis: Redis;
  const prefix = `${uniquePrefix('idem-layout')}:`;
  beforeAll(() => {
    redis = new Redis(redisUrl);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('one Redis key per record, its own Cluster hash tag, expiring with the lease then the retention', async () => {
    const store = createRedisStore({ redis, prefix });
    expect(store.redisKey('SM123')).toBe(`${prefix}{SM123}`);
    await store.claim({ key: 'SM123', token: 't1', fingerprint: 'fp', leaseMs: 5000 });
    const leaseTtl = await redis.pttl(store.redisKey('SM123'));
    expect(leaseTtl).toBeGreaterThan(4000);
    expect(leaseTtl).toBeLessThanOrEqual(5000);
    await store.complete({ key: 'SM123', token: 't1', result: 'r', retentionMs: 86_400_000 });
    expect(await redis.pttl(store.redisKey('SM123'))).toBeGreaterThan(86_000_000);
    expect(await redis.get(store.redisKey('SM123'))).toBe('C\nt1\nfp\nr');
  });

  it('works after SCRIPT FLUSH (reloads its scripts)', async () => {
    const store = createRedisStore({ redis, prefix });
    await redis.script('FLUSH');
    await store.claim({ key: 'flush', token: 't', fingerprint: '', leaseMs: 5000 });
    expect(await store.complete({ key: 'flush', token: 't', result: 'ok', retentionMs: 5000 })).toBe(true);
  });

  /** Four commands in one tick after one from idle: two claims, a claim on a list (WRONGTYPE), two completes. */
  async function setUp(store: ReturnType<typeof createRedisStore>, tag: string) {
    await redis.rpush(store.redisKey(`${tag}-wrong-type`), 'x'); // SET ... GET on a list: WRONGTYPE
    await store.claim({ key: `${tag}-done`, token: 't0', fingerprint: '', leaseMs: 5000 });
    // The scripts cached (a SCRIPT FLUSH above): no NOSCRIPT resend in the counts.
    await store.complete({ key: `${tag}-warm`, token: 'w', result: 'r', retentionMs: 5000 });
    await store.release(`${tag}-warm`, 'w');
  }
  function oneTick(store: ReturnType<typeof createRedisStore>, tag: string) {
    return Promise.allSettled([
      store.claim({ key: `${tag}-1`, token: 't1', fingerprint: '', leaseMs: 5000 }),
      store.claim({ key: `${tag}-wrong-type`, token: 't2', fingerprint: '', leaseMs: 5000 }),
      store.claim({ key: `${tag}-2`, token: 't3', fingerprint: '', leaseMs: 5000 }),
      store.complete({ key: `${tag}-done`, token: 't0', result: 'r', retentionMs: 5000 }),
      store.complete({ key: `${tag}-never-claimed`, token: 't4', result: 'r', retentionMs: 5000 }),
    ]);
  }

  async function expectOwnFates(store: ReturnType<typeof createRedisStore>, tag: string, outcomes: PromiseSettledResult<unknown>[]) {
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : 'rejected'))).toEqual([
      { status: 'claimed' },
      'rejected',
      { status: 'claimed' },
      true,
      false,
    ]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ message: expect.stringContaining('WRONGTYPE') });
    expect(await redis.get(store.redisKey(`${tag}-done`))).toBe('C\nt0\n\nr');
  }

  it('writes the commands of one tick to the corked socket, in one write, each with its own reply or error (no ioredis pipeline)', async () => {
    const store = createRedisStore({ redis, prefix });
    await redis.ping();
    const pipelines = vi.spyOn(redis, 'pipeline');
    const { writes, writevs } = spyOnSocketWrites();
    try {
      await setUp(store, 'cork');
      writes.mockClear();
      writevs.mockClear();
      const outcomes = await oneTick(store, 'cork');
      expect(pipelines).not.toHaveBeenCalled();
      // From idle the first command goes out at once (one write); the four after it, corked
      // until the turn ends, in one writev of four chunks.
      expect(writes).toHaveBeenCalledTimes(1);
      expect(writevs).toHaveBeenCalledTimes(1);
      expect((writevs.mock.calls[0]![0] as unknown[]).length).toBe(4);
      await expectOwnFates(store, 'cork', outcomes);
      // One command alone in its tick goes out on its own, uncorked.
      writes.mockClear();
      writevs.mockClear();
      await store.release('cork-1', 't1');
      expect(writes).toHaveBeenCalledTimes(1);
      expect(writevs).not.toHaveBeenCalled();
      expect(await redis.exists(store.redisKey('cork-1'))).toBe(0);
    } finally {
      vi.restoreAllMocks();
    }
  });

  /** Spies on the writes of the client's socket: `_write` for one chunk, `_writev` for a corked batch. */
  function spyOnSocketWrites() {
    const socket = redis.stream as unknown as { _write: (...args: unknown[]) => void; _writev: (...args: unknown[]) => void };
    return { writes: vi.spyOn(socket, '_write'), writevs: vi.spyOn(socket, '_writev') };
  }

  /** Forty claims in one tick, from idle; each must come back claimed. */
  async function fortyClaims(store: ReturnType<typeof createRedisStore>, tag: string) {
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, i) => store.claim({ key: `${tag}-${i}`, token: `t${i}`, fingerprint: '', leaseMs: 5000 })),
    );
    expect(outcomes).toEqual(Array.from({ length: 40 }, () => ({ status: 'claimed' })));
  }

  it('flushes the corked socket every 16 commands, so Redis starts on a busy tick before it ends', async () => {
    const store = createRedisStore({ redis, prefix });
    await redis.ping();
    const { writes, writevs } = spyOnSocketWrites();
    try {
      await fortyClaims(store, 'cork16');
      // The first from idle alone; the 39 after it corked, written 16 at a time, the rest at the tick's end.
      expect(writes).toHaveBeenCalledTimes(1);
      expect(writevs.mock.calls.map((call) => (call[0] as unknown[]).length)).toEqual([16, 16, 7]);
      expect(await redis.get(store.redisKey('cork16-39'))).toBe('P\nt39\n');
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('holds the corked socket to the end of the event-loop turn: commands from two callbacks of one phase share a write', async () => {
    const store = createRedisStore({ redis, prefix });
    await redis.ping();
    const { writes, writevs } = spyOnSocketWrites();
    try {
      // Two immediates queued together run in one check phase, each its own tick (the
      // next-tick queue drains between them), as two HTTP requests' callbacks do in one poll
      // phase; an immediate queued while they run (the store's uncork) waits for the next
      // turn. (Two zero-delay timers were used here once: under load the second one could
      // fall due a millisecond later, in another turn, and the test failed in CI.)
      const claims: Promise<unknown>[] = [];
      const claimIn = (i: number) => claims.push(store.claim({ key: `turn-${i}`, token: `t${i}`, fingerprint: '', leaseMs: 5000 }));
      await new Promise<void>((resolve) => {
        setImmediate(() => {
          claimIn(0); // from idle: written at once
          claimIn(1); // corked
        });
        setImmediate(() => {
          claimIn(2); // the same write as 1
          resolve();
        });
      });
      expect(await Promise.all(claims)).toEqual([{ status: 'claimed' }, { status: 'claimed' }, { status: 'claimed' }]);
      expect(writes).toHaveBeenCalledTimes(1);
      expect(writevs.mock.calls.map((call) => (call[0] as unknown[]).length)).toEqual([2]);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('on a client without a socket to cork, sends the commands of one tick in one pipeline, each with its own reply or error', async () => {
    const client = {
      set: redis.set.bind(redis),
      evalsha: redis.evalsha.bind(redis),
      eval: redis.eval.bind(redis),
      pipeline: () => redis.pipeline(),
    };
    const store = createRedisStore({ redis: client, prefix });
    await setUp(store, 'pipe');
    const pipelines = vi.spyOn(client, 'pipeline');
    const outcomes = await oneTick(store, 'pipe');
    // From idle the first command goes out at once; the four after it, in one pipeline.
    expect(pipelines).toHaveBeenCalledTimes(1);
    await expectOwnFates(store, 'pipe', outcomes);
    // One command alone in its tick goes out on its own, as without pipelining.
    await store.release('pipe-1', 't1');
    expect(pipelines).toHaveBeenCalledTimes(1);
    expect(await redis.exists(store.redisKey('pipe-1'))).toBe(0);
    // A busy tick goes out 16 commands per pipeline: the first from idle alone, then 16, 16 and 7.
    pipelines.mockClear();
    await fortyClaims(store, 'pipe16');
    expect(pipelines).toHaveBeenCalledTimes(3);
  });

  it('fails a claim whose reply is not a string, instead of replaying "[object Object]" as a completed record', async () => {
    const client = { set: () => Promise.resolve({ odd: true }), evalsha: redis.evalsha.bind(redis), eval: redis.eval.bind(redis) };
    const store = createRedisStore({ redis: client as never, prefix });
    const error = await store.claim({ key: 'odd-reply', token: 't1', fingerprint: 'fp', leaseMs: 5000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe("Expected the claim's reply to be a string or nothing, got object.");
    const buffered = { set: () => Promise.resolve(Buffer.from('C\nt0\nfp\n"done"')), evalsha: redis.evalsha.bind(redis), eval: redis.eval.bind(redis) };
    expect(await createRedisStore({ redis: buffered as never, prefix }).claim({ key: 'buffer-reply', token: 't1', fingerprint: 'fp', leaseMs: 5000 })).toEqual({
      status: 'completed',
      fingerprint: 'fp',
      result: '"done"',
    });
  });

  it('validates its options', () => {
    expect(() => createRedisStore({} as never)).toThrow('Expected `redis` to be an ioredis Redis or Cluster client.');
    expect(() => createRedisStore({ redis, commandTimeoutMs: 0 })).toThrow('Expected `commandTimeoutMs` to be a positive number, got 0.');
  });
});
