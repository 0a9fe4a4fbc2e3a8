// The same contract against an ioredis Cluster client on a private 3-master Redis Cluster:
// every record is one key with its own hash tag, so no command crosses slots.
import { Cluster } from 'ioredis';
import { startPrivateRedisCluster } from '@hardening/test-support';
import { describeStoreContract } from '../test/store-contract.js';
import { createRedisStore } from './redis-store.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describeStoreContract('Redis Cluster (ioredis Cluster, 3 masters)', async () => {
  const cluster = await startPrivateRedisCluster(3);
  const redis = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', resolve);
    redis.once('error', reject);
  });
  return {
    store: createRedisStore({ redis }),
    shortMs: 300,
    elapse: sleep,
    close: async () => {
      redis.disconnect();
      await cluster.stop();
    },
  };
});
