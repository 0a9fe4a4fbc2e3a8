// How the Redis store records a completed run: a plain `SET ... XX` while the guard knows
// the claim is still held (less than half its lease gone), the compare-and-set script after
// that. A private redis-server, so `INFO commandstats` counts this file's commands only.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireRedis, startPrivateRedis, type PrivateRedis } from '@hardening/test-support';
import { recordingLogger } from '../test/support/guard-helpers.js';
import { createIdempotencyGuard } from './guard.js';
import { createRedisStore } from './redis-store.js';
import { isIdempotencyLeaseLostError, type IdempotencyLeaseLostError } from './errors/lease-lost-error.js';
import { isIdempotencyPayloadMismatchError } from './errors/payload-mismatch-error.js';

const redisUp = await requireRedis();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe.skipIf(!redisUp)('Redis store: recording a completed run', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let admin: Redis;

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url);
    admin = new Redis(server.url);
  });

  afterAll(async () => {
    redis?.disconnect();
    admin?.disconnect();
    await server?.stop();
  });

  afterEach(async () => {
    await admin.flushall();
    await admin.config('RESETSTAT');
  });

  /** How often each command ran on the server since the last reset. */
  async function calls(): Promise<{ set: number; evalsha: number; eval: number }> {
    const info = await admin.info('commandstats');
    const count = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
    return { set: count('set'), evalsha: count('evalsha'), eval: count('eval') };
  }

  it('writes the record with one SET XX while the claim is surely held, in the layout the script writes', async () => {
    const guard = createIdempotencyGuard({ store: createRedisStore({ redis, prefix: 'held:' }), leaseMs: 10_000 });
    expect(await guard.run('evt_1', () => Promise.resolve('reply #1'), { payload: { body: 'hi' } })).toBe('reply #1');
    expect(await calls()).toEqual({ set: 2, evalsha: 0, eval: 0 }); // the claim, then the record
    const stored = await admin.get('held:{evt_1}');
    expect(stored).toMatch(/^C\n[^\n]+\n[0-9a-f]+\n\{"v":"reply #1"\}$/);
    // Replayed, with its fingerprint kept: the same payload replays, another one is refused.
    expect(await guard.run('evt_1', () => Promise.resolve('again'), { payload: { body: 'hi' } })).toBe('reply #1');
    await expect(guard.run('evt_1', () => Promise.resolve('again'), { payload: { body: 'other' } })).rejects.toSatisfy(isIdempotencyPayloadMismatchError);
    // Retention is the record's TTL, as with the script.
    expect(await admin.pttl('held:{evt_1}')).toBeGreaterThan(23 * 3_600_000);
  });

  it('compares the token (the script) once half the lease has passed', async () => {
    const guard = createIdempotencyGuard({ store: createRedisStore({ redis, prefix: 'late:' }), leaseMs: 400 });
    expect(
      await guard.run('evt_slow', async () => {
        await sleep(260);
        return 'slow reply';
      }),
    ).toBe('slow reply');
    // The script (sent whole after NOSCRIPT on this fresh server); its own GET and SET count as calls too.
    const { evalsha, eval: evaluated } = await calls();
    expect(evalsha + evaluated).toBeGreaterThanOrEqual(1);
    expect(await guard.run('evt_slow', () => Promise.resolve('again'))).toBe('slow reply');
  });

  it('a run that outlived its lease, the key taken over: not recorded, the takeover stands', async () => {
    const { logger, lines } = recordingLogger();
    const guard = createIdempotencyGuard({ store: createRedisStore({ redis, prefix: 'over:' }), leaseMs: 300, logger });
    let takenOver!: () => void;
    const takeover = new Promise<void>((resolve) => (takenOver = resolve));
    const slow = guard.run('evt_over', async ({ signal }) => {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      await takeover;
      return 'late';
    });
    await sleep(400); // past the lease: Redis has expired the claim
    expect(await guard.run('evt_over', () => Promise.resolve('takeover'), { leaseMs: 10_000 })).toBe('takeover');
    takenOver();
    const error = await slow.catch((e: unknown) => e);
    expect(isIdempotencyLeaseLostError(error)).toBe(true);
    expect(error).toMatchObject({ result: 'late', storeLostKey: false });
    expect(lines.some((l) => l.level === 'error' && l.msg?.includes('outlived its lease'))).toBe(true);
    expect(await guard.run('evt_over', () => Promise.resolve('third'))).toBe('takeover');
  });

  it('never brings back a key the server lost while the claim was held (a flush): nothing is written', async () => {
    const { logger, lines } = recordingLogger();
    const guard = createIdempotencyGuard({ store: createRedisStore({ redis, prefix: 'lost:' }), leaseMs: 10_000, logger });
    const error = await guard
      .run('evt_lost', async () => {
        await admin.flushall(); // the claim is gone, as after a failover or an eviction
        return 'reply';
      })
      .catch((e: unknown) => e);
    expect(isIdempotencyLeaseLostError(error)).toBe(true);
    // Said as it is: the run took milliseconds of its 10 s lease, the store lost the claim.
    expect(error).toMatchObject({ result: 'reply', storeLostKey: true });
    expect((error as IdempotencyLeaseLostError).message).toContain('no longer held the claim');
    expect(lines.some((l) => l.level === 'error' && l.msg?.includes('the store lost the claim within its lease'))).toBe(true);
    expect(await admin.exists('lost:{evt_lost}')).toBe(0);
    expect((await calls()).evalsha).toBe(0); // the SET XX decided it
  });
});
