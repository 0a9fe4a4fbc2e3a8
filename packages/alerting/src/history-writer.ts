import type { AlertHistoryEntry } from './store/alert-store.js';

/**
 * Writes history behind the callers (write-behind): rows are queued and written in batches
 * (`appendMany` when the store has it), one batch at a time, so a burst of a thousand
 * duplicates costs a few store round trips and never holds up a caller, least of all the
 * one that delivered the page. Rows beyond `maxQueue` waiting are dropped with a warning.
 */
export class HistoryWriter {
  private readonly queue: AlertHistoryEntry[] = [];
  private flushing: Promise<void> | undefined;
  private dropped = 0;

  /**
   * @param write - Writes a batch (throws when the store fails; the batch is then dropped and reported).
   * @param onDrop - Told how many rows were dropped so far.
   * @param onError - Told of a batch that could not be written.
   */
  constructor(
    private readonly write: (entries: readonly AlertHistoryEntry[]) => Promise<void>,
    private readonly onDrop: (dropped: number) => void,
    private readonly onError: (entries: readonly AlertHistoryEntry[], error: unknown) => void,
    private readonly batchSize = 200,
    private readonly maxQueue = 10_000,
  ) {}

  /** Rows waiting to be written. */
  get queued(): number {
    return this.queue.length;
  }

  /** Queues a row; it is written soon, behind the caller. Never throws. */
  add(entry: AlertHistoryEntry): void {
    if (this.queue.length >= this.maxQueue) {
      this.dropped++;
      if (this.dropped === 1 || this.dropped % 1000 === 0) this.onDrop(this.dropped);
      return;
    }
    this.queue.push(entry);
    // A microtask later, so rows queued in the same tick go out in one batch.
    this.flushing ??= Promise.resolve().then(() => this.drain());
  }

  /** Resolves when every queued row is written (or given up). */
  async idle(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.batchSize);
        try {
          await this.write(batch);
        } catch (error) {
          this.onError(batch, error);
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }
}
