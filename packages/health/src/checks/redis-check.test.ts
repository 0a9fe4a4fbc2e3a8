import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, redisUrl, requireRedis, startPrivateRedis, type PrivateRedis } from '@hardening/test-support';
import { captureLogger } from '../../test/support.js';
import { HealthMonitor } from '../health-monitor.js';
import { redisCheck } from './redis-check.js';

const redisUp = await requireRedis();

describe('redisCheck: options', () => {
  it('needs a client with ping()', () => {
    expect(() => redisCheck({} as never)).toThrow('Expected `client` to be a Redis client with `ping()`.');
    expect(redisCheck({ client: { ping: () => Promise.resolve('PONG') } })).toMatchObject({
      name: 'redis',
      measurement: 'responseTime',
      componentType: 'datastore',
    });
  });

  it('fails on a reply other than PONG', async () => {
    const monitor = new HealthMonitor({ checks: [redisCheck({ client: { ping: () => Promise.resolve('LOADING') } })], logger: captureLogger() });
    const [result] = (await monitor.report()).checks;
    expect(result!.observations[0]).toMatchObject({ status: 'fail', output: 'unexpected reply to PING' });
  });
});

describe.skipIf(!redisUp)('redisCheck against real Redis', () => {
  it('PINGs the shared server and reports the latency', async () => {
    const client = new Redis(redisUrl, { lazyConnect: false });
    try {
      const monitor = new HealthMonitor({ checks: [redisCheck({ client })], logger: captureLogger() });
      const [result] = (await monitor.report()).checks;
      expect(result).toMatchObject({ key: 'redis:responseTime', status: 'pass' });
      expect(result!.observations[0]!.observedUnit).toBe('ms');
    } finally {
      client.disconnect();
    }
  });

  describe('outage of a private redis-server', () => {
    let server: PrivateRedis;
    let client: Redis;
    beforeAll(async () => {
      server = await startPrivateRedis();
      client = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
      client.on('error', () => {});
    });
    afterAll(async () => {
      client?.disconnect();
      await server?.stop();
    });

    it('fails while the server is down (error or timeout, never a hang) and passes once it is back', async () => {
      const monitor = new HealthMonitor({ checks: [redisCheck({ client })], cacheMs: 20, maxStaleMs: 20, timeoutMs: 500, logger: captureLogger() });
      expect((await monitor.ready()).status).toBe('pass');
      await server.stop();
      await eventually(async () => (await monitor.ready()).status === 'fail', 5000);
      const [result] = (await monitor.report()).checks;
      expect(result!.status).toBe('fail');
      expect(result!.observations[0]!.output).toBeTruthy();
      await server.start();
      await eventually(async () => (await monitor.ready()).status === 'pass', 10_000);
    });
  });
});
