import { Redis } from 'ioredis';
import { redisUrl, requireRedis, uniquePrefix } from '@hardening/test-support';
import { describeStoreContract } from '../test/store-contract.js';
import { createRedisStore } from './redis-store.js';

const redisUp = await requireRedis();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describeStoreContract(
  'Redis (ioredis)',
  async () => {
    const redis = new Redis(redisUrl);
    const prefix = `${uniquePrefix('idem')}:`;
    return {
      store: createRedisStore({ redis, prefix }),
      shortMs: 300,
      elapse: sleep,
      close: async () => {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      },
    };
  },
  { skip: !redisUp },
);
