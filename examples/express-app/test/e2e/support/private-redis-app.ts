// An app on the shared PostgreSQL whose Redis is a private redis-server the test may kill,
// restart empty or hang: the set-up every "Redis goes away mid-request" test starts with.
import { startPrivateRedis, type PrivateRedis } from '@hardening/test-support';
import type { ContextOverrides } from '../../../src/context.js';
import { startTestApp, type TestApp } from './test-app.js';

/** A started app and the private redis-server it uses. */
export interface AppOnPrivateRedis {
  readonly app: TestApp;
  readonly redis: PrivateRedis;
}

/**
 * Starts a private redis-server and an app on PostgreSQL that uses it (keys under `label`),
 * with one pool number stocked.
 */
export async function startAppOnPrivateRedis(label: string, overrides: ContextOverrides): Promise<AppOnPrivateRedis> {
  const redis = await startPrivateRedis();
  const app = await startTestApp({
    spec: { backend: 'postgres', redis: false },
    env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: label },
    label,
    overrides,
  });
  await app.addPoolNumbers(1);
  return { app, redis };
}
