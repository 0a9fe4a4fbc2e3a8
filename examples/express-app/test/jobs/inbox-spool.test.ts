// The spool's drain on the local file (no Redis): an outage stops it with every event kept;
// an event that fails on its own while the database answers goes to the back of the line,
// and is set aside after three failures, never blocking the events behind it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { captureLogger, eventually, redisUrl, requireRedis, startPrivateRedis, type PrivateRedis } from '@hardening/test-support';
import { InboxSpool, type SpooledEvent } from '../../src/inbox-spool.js';

const event = (sid: string): SpooledEvent => ({ provider: 'twilio_sms', receivedAt: '2026-12-06T10:00:00.000Z', payload: { MessageSid: sid } });
const sidOf = (e: SpooledEvent) => e.payload.MessageSid as string;

describe('InboxSpool.drain', () => {
  let dir: string;
  let spool: InboxSpool;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spool-'));
    spool = new InboxSpool(captureLogger(), undefined, join(dir, 'spool.jsonl'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('an outage stops the drain and keeps every event not yet stored, in order', async () => {
    for (const sid of ['SM1', 'SM2', 'SM3']) await spool.put(event(sid));
    const stored: string[] = [];
    const store = (e: SpooledEvent) => {
      if (sidOf(e) === 'SM2') return Promise.reject(new Error('connect ECONNREFUSED'));
      stored.push(sidOf(e));
      return Promise.resolve();
    };
    await expect(spool.drain(store, { isOutage: () => true })).rejects.toThrow('ECONNREFUSED');
    expect(stored).toEqual(['SM1']);
    expect(await spool.size()).toBe(2);
    expect(await spool.deadLetters()).toEqual([]);
  });

  it('an event failing on its own is retried behind the others, then set aside after 3 failures', async () => {
    for (const sid of ['SMbad', 'SM2', 'SM3']) await spool.put(event(sid));
    const stored: string[] = [];
    const setAside: string[] = [];
    const options = { isOutage: () => false, onSetAside: (e: SpooledEvent) => void setAside.push(sidOf(e)) };
    const store = (e: SpooledEvent) => {
      if (sidOf(e) === 'SMbad') return Promise.reject(new TypeError('cannot read this one'));
      stored.push(sidOf(e));
      return Promise.resolve();
    };
    expect(await spool.drain(store, options)).toBe(2);
    expect(stored).toEqual(['SM2', 'SM3']);
    expect(await spool.size()).toBe(1);
    expect(await spool.drain(store, options)).toBe(0);
    expect(setAside).toEqual([]);
    expect(await spool.drain(store, options)).toBe(0);
    expect(setAside).toEqual(['SMbad']);
    expect(await spool.size()).toBe(0);
    expect(await spool.deadLetters()).toMatchObject([{ payload: { MessageSid: 'SMbad' }, attempts: 3, reason: 'TypeError: cannot read this one' }]);
  });

  it('a permanent failure is set aside at once', async () => {
    await spool.put(event('SMpoison'));
    await spool.put(event('SMok'));
    const stored: string[] = [];
    const drained = await spool.drain(
      (e) => {
        if (sidOf(e) === 'SMpoison') return Promise.reject(new Error('refused'));
        stored.push(sidOf(e));
        return Promise.resolve();
      },
      { isOutage: () => false, isPermanent: () => true },
    );
    expect([drained, stored, await spool.size()]).toEqual([1, ['SMok'], 0]);
    expect(await spool.deadLetters()).toMatchObject([{ payload: { MessageSid: 'SMpoison' }, attempts: 1 }]);
  });
});

/** A store whose event `held` cannot be stored yet (its key is held elsewhere) `times` times. */
function heldFor(times: number, held: string, stored: string[]) {
  let left = times;
  return (e: SpooledEvent) => {
    if (sidOf(e) === held && left-- > 0) return Promise.reject(Object.assign(new Error('key held elsewhere'), { notYet: true }));
    stored.push(sidOf(e));
    return Promise.resolve();
  };
}
const redisUp = await requireRedis();
const notYetOptions = { isOutage: () => false, isNotYet: (error: unknown) => (error as { notYet?: boolean }).notYet === true };

describe('InboxSpool.drain: an event that cannot be stored yet', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spool-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('(file) waits for the next drain, no attempt counted, and is stored then', async () => {
    const spool = new InboxSpool(captureLogger(), undefined, join(dir, 'spool.jsonl'));
    for (const sid of ['SMheld', 'SM2']) await spool.put(event(sid));
    const stored: string[] = [];
    const store = heldFor(5, 'SMheld', stored);
    for (let drain = 0; drain < 5; drain++) await spool.drain(store, notYetOptions);
    expect([stored, await spool.size(), await spool.deadLetters()]).toEqual([['SM2'], 1, []]);
    expect(await spool.drain(store, notYetOptions)).toBe(1);
    expect([stored, await spool.size()]).toEqual([['SM2', 'SMheld'], 0]);
  });

  it('(file) counts as a failure after `maxDeferrals` drains', async () => {
    const spool = new InboxSpool(captureLogger(), undefined, join(dir, 'spool.jsonl'));
    await spool.put(event('SMheld'));
    const store = heldFor(100, 'SMheld', []);
    for (let drain = 0; drain < 4; drain++) await spool.drain(store, { ...notYetOptions, maxDeferrals: 1, maxAttempts: 3 });
    expect(await spool.deadLetters()).toMatchObject([{ payload: { MessageSid: 'SMheld' }, deferrals: 1, attempts: 3 }]);
  });

  it.skipIf(!redisUp)('(Redis) is pushed back once per drain, not popped again in the same one', async () => {
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    const key = `spool-not-yet-${process.pid}-${Date.now()}`;
    try {
      await redis.ping(); // connected: put writes to Redis, not the file
      const spool = new InboxSpool(captureLogger(), redis, join(dir, 'spool.jsonl'), key);
      for (const sid of ['SMheld', 'SM2']) await spool.put(event(sid));
      expect(await redis.llen(key)).toBe(2);
      const stored: string[] = [];
      const store = heldFor(2, 'SMheld', stored);
      expect(await spool.drain(store, notYetOptions)).toBe(1);
      expect([stored, await redis.llen(key)]).toEqual([['SM2'], 1]);
      expect(await spool.drain(store, notYetOptions)).toBe(0);
      expect(await spool.drain(store, notYetOptions)).toBe(1);
      expect([stored, await redis.llen(key), await spool.deadLetters()]).toEqual([['SM2', 'SMheld'], 0, []]);
    } finally {
      await redis.del(key);
      redis.disconnect();
    }
  });
});

describe.skipIf(!(await requireRedis()))('InboxSpool.put while Redis is down (a private redis-server, killed)', () => {
  let dir: string;
  let server: PrivateRedis;
  let redis: Redis;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spool-'));
    server = await startPrivateRedis();
    // The app's own client settings (src/context.ts).
    redis = new Redis(server.url, { maxRetriesPerRequest: 2, enableAutoPipelining: true });
    redis.on('error', () => {});
    await redis.ping();
  });
  afterEach(async () => {
    redis.disconnect();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes to the local file at once, without handing ioredis a command to queue offline', async () => {
    const logs = captureLogger();
    const spool = new InboxSpool(logs, redis, join(dir, 'spool.jsonl'), 'spool-test');
    await server.stop();
    await eventually(() => redis.status === 'reconnecting', 5000);
    // A wait for Redis far beyond any webhook's deadline: put must not spend it on a
    // client that is not connected (the chaos run's Slack acks lost 300 ms per event here).
    await spool.put(event('SMdown'), { redisTimeoutMs: 60_000 });
    expect(logs.lines.map((l) => l.msg)).toContain('inbox spool: Redis is not connected; writing the event to the local spool file');
    expect(logs.lines.map((l) => l.msg)).not.toContain('inbox spool: Redis refused the event; writing it to the local spool file');
    // Redis back (empty): the event is in the file only, not also replayed from an offline queue.
    await server.start();
    await eventually(() => redis.status === 'ready', 10_000);
    expect(await redis.llen('spool-test')).toBe(0);
    const drained: string[] = [];
    await spool.drain((e) => {
      drained.push(sidOf(e));
      return Promise.resolve();
    });
    expect(drained).toEqual(['SMdown']);
  }, 30_000);
});
