import { Redis } from 'ioredis';
import { redisUrl, requireRedis, uniquePrefix } from '@hardening/test-support';
import { describeStoreContract } from '../test/store-contract.js';
import { createRedisStore } from './redis-store.js';

const redisUp = await requireRedis();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describeStoreContract(
  'Redis (ioredis)',
  () => {
    const redis = new Redis(redisUrl);
    const prefix = `${uniquePrefix('idem')}:`;
    return Promise.resolve({
      store: createRedisStore({ redis, prefix }),
      shortMs: 300,
      elapse: sleep,
      close: async () => {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      },
    });
  },
  { skip: !redisUp },
);

// Redis before 7.0 rejects SET with both NX and GET ("ERR syntax error"); the store then
// claims with a Lua script. This client forwards everything to the real Redis except that
// it refuses that SET like an old server, so the whole contract runs on the script path.
// Other SETs (a completion's SET XX) it runs, as Redis 6 does.
describeStoreContract(
  'Redis (Lua claim, as on Redis < 7)',
  () => {
    const redis = new Redis(redisUrl);
    const prefix = `${uniquePrefix('idem-lua')}:`;
    const oldRedis = {
      set: (key: string, value: string, ...options: Array<string | number>) =>
        options.includes('NX') && options.includes('GET')
          ? Promise.reject(new Error('ERR syntax error'))
          : redis.set(key, value, ...(options as ['PX', number, 'XX'])),
      evalsha: redis.evalsha.bind(redis),
      eval: redis.eval.bind(redis),
    } as unknown as Redis;
    return Promise.resolve({
      store: createRedisStore({ redis: oldRedis, prefix }),
      shortMs: 300,
      elapse: sleep,
      close: async () => {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      },
    });
  },
  { skip: !redisUp },
);
