// Re-driving a dead-lettered delivery on both queues: BullMQ keeps a failed job under its id
// and ignores a new job with that id, so a re-drive must replace it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { silentLogger } from '@hardening/core';
import { eventually, redisUrl, requirePostgres, requireRedis, uniquePrefix } from '@hardening/test-support';
import type { Database } from '../../src/db/database.js';
import { BullmqQueue } from '../../src/jobs/bullmq-queue.js';
import { deliveryLog } from '../../src/jobs/delivery-log.js';
import { InProcessQueue } from '../../src/jobs/in-process-queue.js';
import type { Job, JobQueue } from '../../src/jobs/job-queue.js';
import { redriveDelivery } from '../../src/jobs/redrive.js';
import { freshDatabase } from '../support/databases.js';

const redisUp = await requireRedis();
const pgUp = await requirePostgres();

function harness(db: Database, queue: JobQueue) {
  const state = { broken: true, runs: 0 };
  queue.start(
    async (job) => {
      state.runs++;
      await deliveryLog.processing(db.prisma, job.deliveryId);
      if (state.broken) {
        await deliveryLog.failed(db.prisma, job.deliveryId, new Error('provider down'), false);
        throw new Error('provider down');
      }
      await deliveryLog.completed(db.prisma, job.deliveryId);
    },
    async (job, error) => {
      await deliveryLog.failed(db.prisma, job.deliveryId, error, true);
    },
  );
  return state;
}

const status = async (db: Database, id: string) => (await db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id } })).status;

async function deadLettered(db: Database, queue: JobQueue, eventId: string): Promise<Job> {
  const deliveryId = await deliveryLog.record(db.prisma, { provider: 'test', eventId, kind: 'evaluate_slack_signal' }, { signalId: eventId });
  const job: Job = { kind: 'evaluate_slack_signal', deliveryId, payload: { signalId: eventId } };
  await queue.add(job);
  await eventually(async () => (await status(db, deliveryId)) === 'dead_letter', 10_000);
  return job;
}

describe.skipIf(!redisUp || !pgUp)('re-drive on BullMQ (PostgreSQL + Redis)', () => {
  let db: Database;
  let queue: BullmqQueue;
  let inspect: Queue;
  let state: { broken: boolean; runs: number };
  const name = uniquePrefix('redrive').replace(/:/g, '-');
  beforeAll(async () => {
    db = await freshDatabase('postgres', 'redrive');
    queue = new BullmqQueue({ url: redisUrl, maxRetriesPerRequest: null }, silentLogger, name, { attempts: 2, backoffMs: 20 });
    inspect = new Queue(name, { connection: { url: redisUrl } });
    state = harness(db, queue);
  });
  afterAll(async () => {
    await queue?.close();
    await inspect?.obliterate({ force: true }).catch(() => {});
    await inspect?.close();
    await db?.close();
  });

  it('runs the dead-lettered job again once replaced (a plain add would be ignored)', async () => {
    const job = await deadLettered(db, queue, 'bull-1');
    expect(state.runs).toBe(2);

    // The trap: BullMQ keeps the failed job and ignores a new one under the same id.
    await queue.add(job);
    expect(await (await inspect.getJob(job.deliveryId))!.getState()).toBe('failed');

    state.broken = false;
    const outcome = await redriveDelivery({ db, queue, logger: silentLogger }, job.deliveryId);
    expect(outcome.kind).toBe('queued');
    await eventually(async () => (await status(db, job.deliveryId)) === 'completed', 10_000);
    expect(state.runs).toBe(3);
    const row = await db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: job.deliveryId } });
    expect([row.attempts, row.lastError]).toEqual([1, null]);
  });

  it('queues once when two operators re-drive at the same moment', async () => {
    state.broken = true;
    const job = await deadLettered(db, queue, 'bull-2');
    state.broken = false;
    const outcomes = await Promise.all([1, 2, 3].map(() => redriveDelivery({ db, queue, logger: silentLogger }, job.deliveryId)));
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['conflict', 'conflict', 'queued']);
    await eventually(async () => (await status(db, job.deliveryId)) === 'completed', 10_000);
  });
});

describe('re-drive on the in-process queue (PGlite)', () => {
  let db: Database;
  let queue: InProcessQueue;
  beforeAll(async () => {
    db = await freshDatabase('pglite', 'redrive');
    queue = new InProcessQueue(silentLogger, { attempts: 2, backoffMs: 10 });
  });
  afterAll(async () => {
    await queue?.close();
    await db?.close();
  });

  it('runs the job again; completed and pending deliveries are not re-driven', async () => {
    const state = harness(db, queue);
    const job = await deadLettered(db, queue, 'mem-1');
    state.broken = false;
    expect((await redriveDelivery({ db, queue, logger: silentLogger }, job.deliveryId)).kind).toBe('queued');
    await eventually(async () => (await status(db, job.deliveryId)) === 'completed');
    expect(await redriveDelivery({ db, queue, logger: silentLogger }, job.deliveryId)).toEqual({ kind: 'conflict', status: 'completed' });
    const pending = await deliveryLog.record(db.prisma, { provider: 'test', eventId: 'mem-2', kind: 'evaluate_slack_signal' }, {});
    expect(await redriveDelivery({ db, queue, logger: silentLogger }, pending)).toEqual({ kind: 'conflict', status: 'pending' });
    expect(await redriveDelivery({ db, queue, logger: silentLogger }, '00000000-0000-4000-8000-000000000000')).toEqual({ kind: 'not_found' });
  });
});
