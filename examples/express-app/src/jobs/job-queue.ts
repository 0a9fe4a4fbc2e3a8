/** Work the app defers to its queue. */
export type JobKind = 'process_inbound' | 'evaluate_slack_signal' | 'process_stripe_event';

/** A queued job: what to do, on which delivery-log row. */
export interface Job {
  readonly kind: JobKind;
  /** The webhook_deliveries row this job updates. */
  readonly deliveryId: string;
  readonly payload: Record<string, string>;
}

/** Runs one job; throwing means "retry later". */
export type JobHandler = (job: Job, attempt: number) => Promise<void>;

/** Called when a job failed its last attempt. */
export type DeadLetterHandler = (job: Job, error: unknown, attempts: number) => Promise<void> | void;

/** Retries of a job: attempts in all, exponential backoff from `backoffMs`. */
export interface RetryPolicy {
  readonly attempts: number;
  readonly backoffMs: number;
}

/**
 * The app's work queue: BullMQ on Redis when REDIS_URL is set, an in-process queue
 * otherwise. Both retry with exponential backoff and dead-letter at the end; neither is
 * the durable record (the delivery log is, see delivery-log.ts).
 */
export interface JobQueue {
  readonly kind: 'bullmq' | 'in-process';
  /**
   * Queues a job; a job with the same delivery id already queued is not queued twice.
   * `replace` first drops a finished (failed or completed) job kept under that id, so a
   * re-driven delivery runs again (BullMQ keeps failed jobs, and ignores a new job with a
   * kept job's id). Waits a bounded time for the queue's store (BullMQ: 3 s of Redis) and
   * throws past it: the caller's delivery-log row keeps the job for the sweep.
   */
  add(job: Job, options?: { delayMs?: number; replace?: boolean }): Promise<void>;
  /** Starts running jobs. */
  start(handler: JobHandler, onDeadLetter: DeadLetterHandler): void;
  /** Jobs waiting or delayed. */
  depth(): Promise<number>;
  /** Stops taking jobs and waits for running ones. */
  close(): Promise<void>;
}

/**
 * The queue's store did not take a job within the queue's add timeout; it may still be queued
 * once the store is back. The caller's delivery-log row keeps the job: the sweep queues open
 * deliveries again.
 *
 * @example
 * ```ts
 * await queue.add(job).catch((error) => { if (!(error instanceof QueueAddTimeoutError)) throw error; });
 * ```
 */
export class QueueAddTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the job queue did not take the job within ${timeoutMs} ms; it may still be queued once its store is back`);
    this.name = 'QueueAddTimeoutError';
  }
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 5, backoffMs: 2000 };

/** The wait before attempt `attempt + 1`. */
export function backoffFor(policy: RetryPolicy, attempt: number): number {
  return policy.backoffMs * 2 ** (attempt - 1);
}
