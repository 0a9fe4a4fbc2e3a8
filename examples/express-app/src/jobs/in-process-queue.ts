import type { Logger } from '@hardening/core';
import type { DeadLetterHandler, Job, JobHandler, JobQueue, RetryPolicy } from './job-queue.js';
import { backoffFor, defaultRetryPolicy } from './job-queue.js';

/**
 * A queue inside the process, for the embedded default (no Redis): jobs run on timers,
 * with the same retries, backoff and dead-lettering as the BullMQ queue. Jobs do not
 * survive a restart here; the delivery log does, and the app queues unfinished
 * deliveries again at start.
 */
export class InProcessQueue implements JobQueue {
  readonly kind = 'in-process';
  private handler: JobHandler | undefined;
  private onDeadLetter: DeadLetterHandler | undefined;
  private readonly queued = new Map<string, NodeJS.Timeout | 'running'>();
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly logger: Logger,
    private readonly policy: RetryPolicy = defaultRetryPolicy,
  ) {}

  // eslint-disable-next-line @typescript-eslint/require-await -- JobQueue.add is async (BullMQ's awaits Redis); a throw stays a rejection
  async add(job: Job, options: { delayMs?: number } = {}): Promise<void> {
    if (this.closed || this.queued.has(job.deliveryId)) return;
    this.schedule(job, 1, options.delayMs ?? 0);
  }

  start(handler: JobHandler, onDeadLetter: DeadLetterHandler): void {
    this.handler = handler;
    this.onDeadLetter = onDeadLetter;
  }

  depth(): Promise<number> {
    return Promise.resolve([...this.queued.values()].filter((v) => v !== 'running').length);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.queued.values()) if (timer !== 'running') clearTimeout(timer);
    await Promise.allSettled([...this.running]);
  }

  private schedule(job: Job, attempt: number, delayMs: number): void {
    const timer = setTimeout(() => {
      this.queued.set(job.deliveryId, 'running');
      const run = this.run(job, attempt).finally(() => this.running.delete(run));
      this.running.add(run);
    }, delayMs);
    this.queued.set(job.deliveryId, timer);
  }

  private async run(job: Job, attempt: number): Promise<void> {
    if (this.handler === undefined) {
      this.schedule(job, attempt, 100);
      return;
    }
    try {
      await this.handler(job, attempt);
      this.queued.delete(job.deliveryId);
    } catch (error) {
      if (attempt >= this.policy.attempts || this.closed) {
        this.queued.delete(job.deliveryId);
        if (attempt >= this.policy.attempts) await Promise.resolve(this.onDeadLetter?.(job, error, attempt)).catch(() => {});
        return;
      }
      const delay = backoffFor(this.policy, attempt);
      this.logger.warn({ job: job.kind, deliveryId: job.deliveryId, attempt, delayMs: delay }, 'job failed; retrying');
      this.schedule(job, attempt + 1, delay);
    }
  }
}
