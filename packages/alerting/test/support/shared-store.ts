// A store shared by several alert services of a test, on the real Redis (keys under a
// prefix of its own, deleted afterwards) or the real PostgreSQL (a schema of its own,
// dropped afterwards).
import { Redis } from 'ioredis';
import { redisUrl, uniquePrefix } from '@hardening/test-support';
import { createPrismaAlertStore, createRedisAlertStore, type AlertStore } from '../../src/index.js';
import { openPostgres } from './databases.js';

export interface SharedStore {
  readonly store: AlertStore;
  readonly close: () => Promise<void>;
}

/** Deletes every key of the Redis store with this prefix. */
export async function deleteRedisKeys(prefix: string, redis?: Redis): Promise<void> {
  const client = redis ?? new Redis(redisUrl);
  const keys = await client.keys(`{${prefix}}:*`);
  if (keys.length > 0) await client.del(...keys);
  if (redis === undefined) client.disconnect();
}

/** Opens a Redis or PostgreSQL alert store of the test's own. */
export async function openSharedStore(kind: 'redis' | 'postgres', label: string): Promise<SharedStore> {
  if (kind === 'redis') {
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    const prefix = uniquePrefix(label);
    return {
      store: createRedisAlertStore({ redis, prefix }),
      close: async () => {
        await deleteRedisKeys(prefix, redis);
        redis.disconnect();
      },
    };
  }
  const db = await openPostgres(label.replace(/-/g, '_'));
  return { store: createPrismaAlertStore({ prisma: db.prisma }), close: () => db.close() };
}
