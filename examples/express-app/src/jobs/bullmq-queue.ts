import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from '@hardening/core';
import type { DeadLetterHandler, Job, JobHandler, JobQueue, RetryPolicy } from './job-queue.js';
import { defaultRetryPolicy, QueueAddTimeoutError } from './job-queue.js';
import { settleBy } from '../settles-within.js';

/** How long {@link BullmqQueue.close} waits for BullMQ before dropping the connections. */
const closeTimeoutMs = 3000;

/**
 * How long {@link BullmqQueue.add} waits for Redis. BullMQ's connections retry every command
 * without limit (`maxRetriesPerRequest: null`), so while Redis is down an add would wait until
 * it is back: a sweep (one run at a time) stalled on its first add for a whole outage.
 */
const defaultAddTimeoutMs = 3000;

/**
 * The work queue on Redis (BullMQ): shared by every instance, jobs survive restarts,
 * retries with exponential backoff, and a job that failed its last attempt is handed to
 * the dead-letter handler (delivery log + alert). The job id is the delivery id, so a
 * delivery is queued once however many instances see it.
 */
export class BullmqQueue implements JobQueue {
  readonly kind = 'bullmq';
  private readonly queue: Queue;
  private worker: Worker | undefined;

  constructor(
    private readonly connection: ConnectionOptions,
    private readonly logger: Logger,
    private readonly name = 'hardening-app-jobs',
    private readonly policy: RetryPolicy = defaultRetryPolicy,
    private readonly concurrency = 5,
    private readonly addTimeoutMs = defaultAddTimeoutMs,
  ) {
    this.queue = new Queue(name, { connection, defaultJobOptions: { removeOnComplete: 1000, removeOnFail: 5000 } });
    // Without a listener ioredis prints every connection error to stderr, unstructured.
    this.queue.on('error', (error) => this.logger.error({ err: error.message }, 'queue connection error'));
  }

  /**
   * Queues `job`, waiting at most the add timeout for Redis.
   *
   * @throws {@link QueueAddTimeoutError} when Redis did not answer in time (the job may still
   *   be queued later, once under its delivery id; the delivery log keeps it either way).
   */
  async add(job: Job, options: { delayMs?: number; replace?: boolean } = {}): Promise<void> {
    const added = await settleBy(
      this.addNow(job, options).then(() => true),
      this.addTimeoutMs,
    );
    if (added === undefined) throw new QueueAddTimeoutError(this.addTimeoutMs);
  }

  private async addNow(job: Job, options: { delayMs?: number; replace?: boolean }): Promise<void> {
    if (options.replace === true) {
      const kept = await this.queue.getJob(job.deliveryId);
      if (kept !== undefined && ['failed', 'completed'].includes(await kept.getState())) await kept.remove();
    }
    await this.queue.add(job.kind, job, {
      jobId: job.deliveryId,
      attempts: this.policy.attempts,
      backoff: { type: 'exponential', delay: this.policy.backoffMs },
      ...(options.delayMs === undefined ? {} : { delay: options.delayMs }),
    });
  }

  start(handler: JobHandler, onDeadLetter: DeadLetterHandler): void {
    this.worker = new Worker(this.name, async (bullJob) => handler(bullJob.data as Job, bullJob.attemptsMade + 1), {
      connection: this.connection,
      concurrency: this.concurrency,
    });
    this.worker.on('failed', (bullJob, error) => {
      if (bullJob === undefined) return;
      const attempts = bullJob.attemptsMade;
      if (attempts >= (bullJob.opts.attempts ?? 1)) {
        void Promise.resolve(onDeadLetter(bullJob.data as Job, error, attempts)).catch(() => {});
      } else {
        this.logger.warn({ job: bullJob.name, deliveryId: bullJob.id, attempt: attempts }, 'job failed; retrying');
      }
    });
    this.worker.on('error', (error) => this.logger.error({ err: error.message }, 'queue worker error'));
  }

  async depth(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'delayed', 'prioritized');
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  /**
   * Stops the worker (waiting for running jobs) and the queue. BullMQ's close waits for
   * Redis to answer; while Redis is unreachable that is forever, so after
   * {@link closeTimeoutMs} it gives up waiting (the process is about to exit; unfinished
   * jobs are retried from Redis, or from the delivery log, later).
   */
  async close(): Promise<void> {
    const graceful = (async () => {
      await this.worker?.close();
      await this.queue.close();
    })();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      graceful.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), closeTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (!timedOut) return;
    graceful.catch(() => {});
    this.logger.warn({ timeoutMs: closeTimeoutMs }, 'queue did not close in time (Redis unreachable?); leaving its connections behind');
    // BullMQ's disconnect also waits for the connection to be ready first: not awaited.
    void Promise.allSettled([this.worker?.disconnect(), this.queue.disconnect()]);
  }
}
