import type { RetryBudgetOptions } from './options.js';

const BUCKETS = 10;

/**
 * Counts calls and retries of one operation over a sliding window of ten buckets; a retry
 * is allowed while `retries < max(minRetries, ratio * calls)`.
 */
export class RetryBudget {
  private readonly ratio: number;
  private readonly minRetries: number;
  private readonly bucketMs: number;
  private readonly epochs = new Float64Array(BUCKETS).fill(-1);
  private readonly calls = new Uint32Array(BUCKETS);
  private readonly retries = new Uint32Array(BUCKETS);
  /** The current bucket and when it ends, so counting a call needs no division. */
  private currentSlot = 0;
  private currentEnd = -Infinity;

  constructor(options: RetryBudgetOptions) {
    this.ratio = options.ratio ?? 0.2;
    this.minRetries = options.minRetries ?? 10;
    const windowMs = options.windowMs ?? 10_000;
    if (!Number.isFinite(this.ratio) || this.ratio < 0) {
      throw new TypeError(`Expected \`retryBudget.ratio\` to be a non-negative number, got ${String(this.ratio)}.`);
    }
    if (!Number.isInteger(this.minRetries) || this.minRetries < 0) {
      throw new TypeError(`Expected \`retryBudget.minRetries\` to be a non-negative integer, got ${String(this.minRetries)}.`);
    }
    if (!Number.isFinite(windowMs) || windowMs <= 0) {
      throw new TypeError(`Expected \`retryBudget.windowMs\` to be a positive number, got ${String(windowMs)}.`);
    }
    this.bucketMs = windowMs / BUCKETS;
  }

  /** Counts a call (its first attempt). */
  recordCall(now: number): void {
    if (now >= this.currentEnd) this.slot(now);
    this.calls[this.currentSlot]!++;
  }

  /** Takes one retry from the budget; false when it is spent. */
  tryRetry(now: number): boolean {
    const slot = this.slot(now);
    const current = Math.floor(now / this.bucketMs);
    let calls = 0;
    let retries = 0;
    for (let i = 0; i < BUCKETS; i++) {
      if (this.epochs[i]! > current - BUCKETS) {
        calls += this.calls[i]!;
        retries += this.retries[i]!;
      }
    }
    if (retries >= Math.max(this.minRetries, this.ratio * calls)) return false;
    this.retries[slot]!++;
    return true;
  }

  private slot(now: number): number {
    const epoch = Math.floor(now / this.bucketMs);
    const slot = epoch % BUCKETS;
    if (this.epochs[slot] !== epoch) {
      this.epochs[slot] = epoch;
      this.calls[slot] = 0;
      this.retries[slot] = 0;
    }
    if (epoch >= Math.floor(this.currentEnd / this.bucketMs)) {
      this.currentSlot = slot;
      this.currentEnd = (epoch + 1) * this.bucketMs;
    }
    return slot;
  }
}
