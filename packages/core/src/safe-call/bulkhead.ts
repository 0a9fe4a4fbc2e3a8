import { AbortedError } from '../errors/aborted-error.js';
import { BulkheadFullError } from '../errors/bulkhead-full-error.js';
import { subscribeToAbort, unsubscribeFromAbort } from './caller-signal.js';
import type { BulkheadOptions } from './options.js';

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
  cleanup(): void;
}

/**
 * At most `maxConcurrent` calls of one operation at once; up to `maxQueue` more wait in
 * FIFO order. `acquire` returns `undefined` when a slot was free (no promise on the fast
 * path), or a promise that settles when one frees.
 */
export class Bulkhead {
  private active = 0;
  private readonly queue: Waiter[] = [];
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  private readonly queueTimeoutMs: number;

  constructor(
    readonly name: string,
    options: BulkheadOptions,
  ) {
    this.maxConcurrent = options.maxConcurrent;
    this.maxQueue = options.maxQueue ?? 0;
    this.queueTimeoutMs = options.queueTimeoutMs ?? Infinity;
    if (!Number.isInteger(this.maxConcurrent) || this.maxConcurrent < 1) {
      throw new TypeError(`Expected \`bulkhead.maxConcurrent\` to be a positive integer, got ${String(options.maxConcurrent)}.`);
    }
    if (!Number.isInteger(this.maxQueue) || this.maxQueue < 0) {
      throw new TypeError(`Expected \`bulkhead.maxQueue\` to be a non-negative integer, got ${String(options.maxQueue)}.`);
    }
    if (!(this.queueTimeoutMs > 0)) {
      throw new TypeError(`Expected \`bulkhead.queueTimeoutMs\` to be a positive number, got ${String(options.queueTimeoutMs)}.`);
    }
  }

  /** Calls running and waiting, for snapshots. */
  get load(): { active: number; queued: number } {
    return { active: this.active, queued: this.queue.length };
  }

  acquire(signal: AbortSignal | undefined): Promise<void> | undefined {
    if (this.active < this.maxConcurrent) {
      this.active++;
      return undefined;
    }
    if (this.queue.length >= this.maxQueue) {
      return Promise.reject(new BulkheadFullError(this.name, this.maxConcurrent, this.maxQueue, 'every slot and queue place is taken'));
    }
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        this.drop(waiter);
        reject(new AbortedError(this.name, signal!.reason));
      };
      const waiter: Waiter = {
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          if (signal !== undefined) unsubscribeFromAbort(signal, onAbort);
        },
      };
      if (Number.isFinite(this.queueTimeoutMs)) {
        timer = setTimeout(() => {
          this.drop(waiter);
          reject(new BulkheadFullError(this.name, this.maxConcurrent, this.maxQueue, `waited ${this.queueTimeoutMs} ms for a slot`));
        }, this.queueTimeoutMs);
      }
      if (signal !== undefined) subscribeToAbort(signal, onAbort);
      this.queue.push(waiter);
    });
  }

  release(): void {
    const next = this.queue.shift();
    if (next === undefined) {
      this.active--;
      return;
    }
    next.cleanup();
    next.resolve(); // the slot passes straight to the next waiter
  }

  private drop(waiter: Waiter): void {
    waiter.cleanup();
    const index = this.queue.indexOf(waiter);
    if (index >= 0) this.queue.splice(index, 1);
  }
}
