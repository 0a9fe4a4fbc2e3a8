// The BullMQ queue on a private redis-server the test kills: an add waits a bounded time for
// Redis (BullMQ's connections otherwise hold a command until Redis is back: a sweep stalled
// on its first add for a whole outage), and a job added once Redis is back runs.
import { silentLogger } from '@hardening/core';
import { eventually, requireRedis, startPrivateRedis, type PrivateRedis } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullmqQueue } from '../../src/jobs/bullmq-queue.js';
import { QueueAddTimeoutError, type Job } from '../../src/jobs/job-queue.js';

const redisUp = await requireRedis();

describe.skipIf(!redisUp)('BullmqQueue while Redis is down (private redis-server)', () => {
  let redis: PrivateRedis;
  let queue: BullmqQueue;
  const ran: string[] = [];

  beforeAll(async () => {
    redis = await startPrivateRedis();
    queue = new BullmqQueue({ url: redis.url, maxRetriesPerRequest: null }, silentLogger, 'bullmq-queue-test', { attempts: 1, backoffMs: 100 }, 1, 500);
    queue.start(
      (job) => {
        ran.push(job.deliveryId);
        return Promise.resolve();
      },
      () => {},
    );
  }, 30_000);
  afterAll(async () => {
    await queue?.close();
    await redis?.stop();
  });

  const job = (deliveryId: string): Job => ({ kind: 'process_inbound', deliveryId, payload: { inboxId: deliveryId } });

  it('an add gives up after its timeout with a typed error, and a job added once Redis is back runs once', async () => {
    await queue.add(job('before'));
    await eventually(() => Promise.resolve(ran.includes('before')), 15_000, 50);

    await redis.stop();
    const started = Date.now();
    const error = await queue.add(job('during')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(QueueAddTimeoutError);
    // Bounded by its 500 ms timeout, not by the outage (generous margin for a busy machine).
    expect(Date.now() - started).toBeLessThan(10_000);

    await redis.start();
    // The first adds after the restart may still time out while BullMQ reconnects.
    await eventually(
      async () =>
        queue.add(job('after')).then(
          () => true,
          () => false,
        ),
      30_000,
      200,
    );
    await eventually(() => Promise.resolve(ran.includes('after')), 30_000, 100);
    expect(ran.filter((id) => id === 'after')).toHaveLength(1);
  }, 90_000);
});
