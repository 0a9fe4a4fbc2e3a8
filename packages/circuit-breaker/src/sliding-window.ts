/**
 * How a breaker measures failure and slow-call rates.
 *
 * - `count`: the last `size` calls.
 * - `time`: the calls of the last `sizeMs` milliseconds, kept in `buckets` buckets (older
 *   buckets roll off whole, as in resilience4j's time-based window).
 *
 * @example
 * ```ts
 * import type { SlidingWindowOptions } from '@hardening/circuit-breaker';
 * const lastHundred: SlidingWindowOptions = { type: 'count', size: 100 };
 * const lastMinute: SlidingWindowOptions = { type: 'time', sizeMs: 60_000, buckets: 12 };
 * ```
 */
export type SlidingWindowOptions =
  { readonly type: 'count'; readonly size: number } | { readonly type: 'time'; readonly sizeMs: number; readonly buckets?: number };

/** Totals over a window. */
export interface WindowTotals {
  /** Calls recorded in the window. */
  readonly calls: number;
  /** Of those, failures. */
  readonly failures: number;
  /** Of those, calls slower than the slow-call threshold. */
  readonly slowCalls: number;
}

/** @internal */
export interface SlidingWindow {
  /** Whether `now` matters (a count window ignores it, so callers can skip reading the clock). */
  readonly timed: boolean;
  record(failed: boolean, slow: boolean, now: number): void;
  totals(now: number): WindowTotals;
  reset(): void;
}

const FAILED = 1;
const SLOW = 2;

/** The last `size` outcomes in a ring buffer with running totals: O(1) per call. */
class CountWindow implements SlidingWindow {
  readonly timed = false;
  private readonly outcomes: Uint8Array;
  private next = 0;
  private filled = 0;
  private failures = 0;
  private slowCalls = 0;

  constructor(size: number) {
    this.outcomes = new Uint8Array(size);
  }

  record(failed: boolean, slow: boolean): void {
    const size = this.outcomes.length;
    if (this.filled === size) {
      const evicted = this.outcomes[this.next]!;
      if (evicted & FAILED) this.failures--;
      if (evicted & SLOW) this.slowCalls--;
    } else {
      this.filled++;
    }
    this.outcomes[this.next] = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    if (failed) this.failures++;
    if (slow) this.slowCalls++;
    this.next = this.next + 1 === size ? 0 : this.next + 1;
  }

  totals(): WindowTotals {
    return { calls: this.filled, failures: this.failures, slowCalls: this.slowCalls };
  }

  reset(): void {
    this.next = 0;
    this.filled = 0;
    this.failures = 0;
    this.slowCalls = 0;
  }
}

/** Calls of the last `sizeMs`, in fixed buckets indexed by `floor(now / bucketMs)`. */
class TimeWindow implements SlidingWindow {
  readonly timed = true;
  private readonly bucketMs: number;
  private readonly epochs: Float64Array;
  private readonly calls: Uint32Array;
  private readonly failures: Uint32Array;
  private readonly slowCalls: Uint32Array;

  constructor(sizeMs: number, buckets: number) {
    this.bucketMs = sizeMs / buckets;
    this.epochs = new Float64Array(buckets).fill(-1);
    this.calls = new Uint32Array(buckets);
    this.failures = new Uint32Array(buckets);
    this.slowCalls = new Uint32Array(buckets);
  }

  record(failed: boolean, slow: boolean, now: number): void {
    const epoch = Math.floor(now / this.bucketMs);
    const slot = epoch % this.epochs.length;
    if (this.epochs[slot] !== epoch) {
      this.epochs[slot] = epoch;
      this.calls[slot] = 0;
      this.failures[slot] = 0;
      this.slowCalls[slot] = 0;
    }
    this.calls[slot]!++;
    if (failed) this.failures[slot]!++;
    if (slow) this.slowCalls[slot]!++;
  }

  totals(now: number): WindowTotals {
    const current = Math.floor(now / this.bucketMs);
    const oldest = current - this.epochs.length + 1;
    let calls = 0;
    let failures = 0;
    let slowCalls = 0;
    for (let slot = 0; slot < this.epochs.length; slot++) {
      const epoch = this.epochs[slot]!;
      if (epoch >= oldest && epoch <= current) {
        calls += this.calls[slot]!;
        failures += this.failures[slot]!;
        slowCalls += this.slowCalls[slot]!;
      }
    }
    return { calls, failures, slowCalls };
  }

  reset(): void {
    this.epochs.fill(-1);
  }
}

/** @internal */
export function createSlidingWindow(options: SlidingWindowOptions): SlidingWindow {
  if (options.type === 'count') {
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new TypeError(`Expected \`slidingWindow.size\` to be a positive integer, got ${String(options.size)}.`);
    }
    return new CountWindow(options.size);
  }
  if (options.type === 'time') {
    const buckets = options.buckets ?? 10;
    if (!Number.isFinite(options.sizeMs) || options.sizeMs <= 0) {
      throw new TypeError(`Expected \`slidingWindow.sizeMs\` to be a positive number, got ${String(options.sizeMs)}.`);
    }
    if (!Number.isInteger(buckets) || buckets < 1 || buckets > 1000) {
      throw new TypeError(`Expected \`slidingWindow.buckets\` to be an integer from 1 to 1000, got ${String(buckets)}.`);
    }
    return new TimeWindow(options.sizeMs, buckets);
  }
  throw new TypeError(`Expected \`slidingWindow.type\` to be 'count' or 'time', got ${JSON.stringify((options as { type?: unknown }).type)}.`);
}
