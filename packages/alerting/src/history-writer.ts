import pLimit, { type LimitFunction } from 'p-limit';
import type { AlertHistoryEntry } from './store/alert-store.js';

/**
 * Appends history rows with bounded concurrency, so a burst of duplicates (a thousand
 * identical alerts in a second) cannot flood the store's connections and starve the claims
 * that decide who alerts. Rows beyond `maxQueue` waiting are dropped with a warning.
 */
export class HistoryWriter {
  private readonly limit: LimitFunction;
  private readonly pending = new Set<Promise<void>>();
  private dropped = 0;

  constructor(
    private readonly write: (entry: AlertHistoryEntry) => Promise<void>,
    private readonly onDrop: (dropped: number) => void,
    concurrency = 4,
    private readonly maxQueue = 10_000,
  ) {
    this.limit = pLimit(concurrency);
  }

  /** Queues a row; resolves once written (or given up). Never rejects. */
  add(entry: AlertHistoryEntry): Promise<void> {
    if (this.limit.pendingCount >= this.maxQueue) {
      this.dropped++;
      if (this.dropped === 1 || this.dropped % 1000 === 0) this.onDrop(this.dropped);
      return Promise.resolve();
    }
    const done = this.limit(() => this.write(entry)).catch(() => undefined);
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
    return done;
  }

  /** Resolves when every queued row is written. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
