import { Redis } from 'ioredis';
import { redisUrl, requireRedis, uniquePrefix } from '@hardening/test-support';
import { describeAlertStoreContract } from '../../test/store-contract.js';
import { createRedisAlertStore } from './redis-store.js';

const redisUp = await requireRedis();

describeAlertStoreContract(
  'Redis',
  () => {
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    const prefix = uniquePrefix('alerts');
    return Promise.resolve({
      store: createRedisAlertStore({ redis, prefix }),
      close: async () => {
        const keys = await redis.keys(`{${prefix}}:*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      },
    });
  },
  { skip: !redisUp },
);
