import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisUrl, requireRedis } from '@hardening/test-support';
import { createRedisAlertStore } from './redis-store.js';

const redisUp = await requireRedis();

describe.skipIf(!redisUp)('createRedisAlertStore prefix', () => {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  // A type no other test (or engineer on the shared Redis) uses: only its keys are read and deleted.
  const type = `PREFIX_TEST_${randomUUID().replaceAll('-', '_')}`;
  const claim = { type, key: 'k', resourceId: undefined, severity: 'HIGH', title: 't', payload: '{}', now: Date.now(), windowMs: 60_000 } as const;
  const keysOf = async (root: string): Promise<string[]> => (await redis.keys(`{${root}}:*${type}*`)).sort();

  afterAll(async () => {
    const keys = [...(await keysOf('hardening:alerts')), ...(await keysOf('alerts'))];
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('namespaces its keys under {hardening:alerts} by default, and `prefix: alerts` keeps the old keys', async () => {
    await createRedisAlertStore({ redis }).claim({ ...claim, alertId: randomUUID() });
    const namespaced = await keysOf('hardening:alerts');
    expect(namespaced).toContain(`{hardening:alerts}:claim:${type}:k`);
    expect(await keysOf('alerts')).toEqual([]);

    await createRedisAlertStore({ redis, prefix: 'alerts' }).claim({ ...claim, alertId: randomUUID() });
    expect(await keysOf('alerts')).toContain(`{alerts}:claim:${type}:k`);
  });

  it('rejects a prefix with characters outside letters, digits and :_.-', () => {
    expect(() => createRedisAlertStore({ redis, prefix: 'a b' })).toThrow(TypeError);
  });
});
