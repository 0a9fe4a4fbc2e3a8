import type { AlertHistoryEntry } from './store/alert-store.js';

/**
 * What the history queue holds, for the alert system status.
 *
 * @example
 * ```ts
 * const { history } = alerts.getAlertSystemStatus();
 * if (history.queued > 0 && history.failingSince !== undefined) console.warn(`${history.queued} history rows wait for the store`);
 * ```
 */
export interface HistoryQueueState {
  /** Rows waiting to be written (including rows kept through a store outage). */
  readonly queued: number;
  /** Rows dropped (oldest first) because more than `maxQueue` were waiting, since start. */
  readonly dropped: number;
  /** Since when the store has refused the history (ISO 8601), while it does. */
  readonly failingSince?: string;
  /** The last write error (scrubbed), while the store refuses. */
  readonly lastError?: string;
}

/** Options of {@link HistoryWriter}. */
export interface HistoryWriterOptions {
  /** Writes a batch; throws when the store fails (the batch is then kept and retried). */
  readonly write: (entries: readonly AlertHistoryEntry[]) => Promise<void>;
  /** Told the total of rows dropped so far, on the first drop and every 1,000th. */
  readonly onDrop: (dropped: number) => void;
  /** Told of a failed write: the rows now kept, and when the next attempt is due (ms from now). */
  readonly onError: (queued: number, error: unknown, retryInMs: number) => void;
  /** Told once when a write succeeds after failures: how many rows were written late. */
  readonly onRecovered: (written: number) => void;
  /** Describes an error for the status (scrubbed). */
  readonly describe: (error: unknown) => string;
  /** Rows per write. @default 200 */
  readonly batchSize?: number;
  /** Rows kept at most; beyond, the oldest are dropped. @default 10_000 */
  readonly maxQueue?: number;
  /** First delay after a failed write; doubles per failure. @default 1000 */
  readonly initialRetryMs?: number;
  /** Longest delay between attempts. @default 30_000 */
  readonly maxRetryMs?: number;
  /** Epoch ms (injected for tests). @default Date.now */
  readonly now?: () => number;
  /** Schedules a retry (injected for tests); the default timer does not keep the process alive. @default setTimeout, unref'd */
  readonly schedule?: (fn: () => void, ms: number) => { cancel(): void };
}

const defaults = {
  batchSize: 200,
  maxQueue: 10_000,
  initialRetryMs: 1000,
  maxRetryMs: 30_000,
  now: () => Date.now(),
  schedule: (fn: () => void, ms: number) => {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

/**
 * Writes history behind the callers (write-behind): rows are queued and written in batches
 * (`appendMany` when the store has it), one batch at a time, so a burst of a thousand
 * duplicates costs a few store round trips and never holds up a caller, least of all the
 * one that delivered the page.
 *
 * A batch the store refuses is kept at the head of the queue and written again with
 * backoff (1 s doubling to 30 s), or at once when {@link HistoryWriter.retryNow} is called
 * (the maintenance round): history outlives a store outage as long as the process does.
 * The queue is bounded (`maxQueue`): beyond it the oldest rows are dropped, counted and
 * warned about.
 *
 * @example
 * ```ts
 * const writer = new HistoryWriter({ write: (rows) => store.appendMany!(rows), onDrop, onError, onRecovered, describe: String });
 * writer.add(row); // returns at once; the row is written behind the caller
 * await writer.idle();
 * ```
 */
export class HistoryWriter {
  private readonly queue: AlertHistoryEntry[] = [];
  private flushing: Promise<void> | undefined;
  private retry: { cancel(): void } | undefined;
  private dropped = 0;
  private failures = 0;
  private failingSince: number | undefined;
  private lastError: string | undefined;
  private readonly options: Required<HistoryWriterOptions>;

  constructor(options: HistoryWriterOptions) {
    this.options = { ...defaults, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<HistoryWriterOptions>;
  }

  /** Rows waiting to be written. */
  get queued(): number {
    return this.queue.length;
  }

  /** The queue's state (for the status). */
  get state(): HistoryQueueState {
    return {
      queued: this.queue.length,
      dropped: this.dropped,
      ...(this.failingSince !== undefined ? { failingSince: new Date(this.failingSince).toISOString() } : {}),
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
    };
  }

  /** Queues a row; it is written soon, behind the caller. Never throws. */
  add(entry: AlertHistoryEntry): void {
    this.queue.push(entry);
    this.trim();
    // While the store refuses, rows wait for the next attempt; else a microtask later, so
    // rows queued in the same tick go out in one batch.
    if (this.retry === undefined) this.flushing ??= Promise.resolve().then(() => this.drain());
  }

  /**
   * Writes the queued rows now, without waiting for the backoff (the maintenance round
   * calls it). Resolves when this attempt is over; never throws.
   */
  async retryNow(): Promise<void> {
    if (this.retry !== undefined) {
      this.retry.cancel();
      this.retry = undefined;
    }
    if (this.queue.length > 0) this.flushing ??= this.drain();
    await this.idle();
  }

  /**
   * Resolves when every queued row is written, or the store refused the rest (they stay
   * queued for the next attempt).
   */
  async idle(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
  }

  /** Cancels the pending retry (rows still queued stay in memory). */
  stop(): void {
    this.retry?.cancel();
    this.retry = undefined;
  }

  private trim(): void {
    const extra = this.queue.length - this.options.maxQueue;
    if (extra <= 0) return;
    this.queue.splice(0, extra);
    const before = this.dropped;
    this.dropped += extra;
    if (before === 0 || Math.floor(this.dropped / 1000) > Math.floor(before / 1000)) this.options.onDrop(this.dropped);
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.slice(0, this.options.batchSize);
        try {
          await this.options.write(batch);
        } catch (error) {
          // Keep the batch (it is still at the head: add() only appends, trim() may have
          // dropped some of its oldest rows meanwhile) and try again later.
          this.failures++;
          this.failingSince ??= this.options.now();
          this.lastError = this.options.describe(error);
          const delay = Math.min(this.options.initialRetryMs * 2 ** (this.failures - 1), this.options.maxRetryMs);
          this.retry = this.options.schedule(() => {
            this.retry = undefined;
            this.flushing ??= this.drain();
          }, delay);
          this.options.onError(this.queue.length, error, delay);
          return;
        }
        this.removeWritten(batch);
        if (this.failingSince !== undefined) {
          this.failingSince = undefined;
          this.lastError = undefined;
          this.failures = 0;
          this.options.onRecovered(batch.length + this.queue.length);
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** Removes the rows of a written batch that are still at the head (the bound may have dropped some). */
  private removeWritten(batch: readonly AlertHistoryEntry[]): void {
    const last = batch.at(-1);
    const index = last === undefined ? -1 : this.queue.indexOf(last);
    if (index >= 0) this.queue.splice(0, index + 1);
  }
}
