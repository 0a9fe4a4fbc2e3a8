import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import type { ClaimOutcome, ClaimRequest, CompleteRequest, IdempotencyStore } from './store.js';

/**
 * Options for {@link createMemoryStore}.
 *
 * @example
 * ```ts
 * import { createMemoryStore } from '@hardening/idempotency';
 * const store = createMemoryStore({ maxEntries: 50_000 });
 * ```
 */
export interface MemoryStoreOptions {
  /**
   * Most records kept. When full, expired records go first, then the oldest ones: size it
   * above the number of keys you see within one retention period, or old keys are
   * forgotten early (counted in `stats().evicted`).
   * @default 100_000
   */
  readonly maxEntries?: number | undefined;
  /**
   * Time source.
   * @default Date.now
   */
  readonly clock?: Clock | undefined;
}

/**
 * Counters of a {@link MemoryIdempotencyStore}.
 */
export interface MemoryStoreStats {
  /** Records held now (some may have expired and not been swept yet). */
  readonly size: number;
  /** The configured bound. */
  readonly maxEntries: number;
  /** Live records dropped because the store was full. */
  readonly evicted: number;
  /** Expired records removed. */
  readonly expired: number;
}

interface Entry {
  readonly key: string;
  completed: boolean;
  token: string;
  readonly fingerprint: string;
  result: string | undefined;
  expiresAt: number;
}

const defaults = {
  maxEntries: 100_000,
  /** Oldest records checked for expiry on each claim, which keeps sweeping O(1) per call. */
  sweepPerClaim: 2,
};

/**
 * An in-process store: bounded (`maxEntries`, then TTL and oldest-first eviction), for
 * tests and single-process apps. It forgets everything when the process exits and is not
 * shared between processes: use Redis or PostgreSQL for several instances.
 *
 * @example
 * ```ts
 * import { MemoryIdempotencyStore, createIdempotencyGuard } from '@hardening/idempotency';
 * const store = new MemoryIdempotencyStore({ maxEntries: 10_000 });
 * const guard = createIdempotencyGuard({ store });
 * ```
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  // Records in the order they were claimed, oldest first (with one retention for all,
  // close to expiry order); an item is stale once the map holds another object for its key. Kept by hand because iterating a Map from its start
  // after many deletions walks every deleted slot (V8 keeps them until it rehashes), which
  // made each eviction O(n).
  private queue: Entry[] = [];
  private head = 0;
  private readonly maxEntries: number;
  private readonly clock: Clock;
  private evicted = 0;
  private expired = 0;

  /**
   * @param options - See {@link MemoryStoreOptions}.
   * @throws TypeError when `maxEntries` is not a positive integer.
   */
  constructor(options: MemoryStoreOptions = {}) {
    const { maxEntries = defaults.maxEntries, clock = systemClock } = options;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError(`Expected \`maxEntries\` to be a positive integer, got ${String(maxEntries)}.`);
    }
    this.maxEntries = maxEntries;
    this.clock = clock;
  }

  /* eslint-disable @typescript-eslint/require-await -- IdempotencyStore's methods are async; these keep `async` so a throw is a rejection, as from the Redis and Prisma stores */

  /** {@inheritDoc IdempotencyStore.claim} */
  async claim(request: ClaimRequest): Promise<ClaimOutcome> {
    const now = this.clock.now();
    const existing = this.entries.get(request.key);
    if (existing !== undefined) {
      if (existing.expiresAt > now) {
        return existing.completed
          ? { status: 'completed', fingerprint: existing.fingerprint, result: existing.result ?? '' }
          : { status: 'in-progress', fingerprint: existing.fingerprint, leaseRemainingMs: existing.expiresAt - now };
      }
      this.entries.delete(request.key);
      this.expired++;
    }
    this.sweep(now, defaults.sweepPerClaim);
    while (this.entries.size >= this.maxEntries) this.evictOldest(now);
    this.add({
      key: request.key,
      completed: false,
      token: request.token,
      fingerprint: request.fingerprint,
      result: undefined,
      expiresAt: now + request.leaseMs,
    });
    return { status: 'claimed' };
  }

  /** {@inheritDoc IdempotencyStore.complete} */
  async complete(request: CompleteRequest): Promise<boolean> {
    const entry = this.entries.get(request.key);
    if (entry === undefined || entry.completed || entry.token !== request.token) return false;
    entry.completed = true;
    entry.result = request.result;
    entry.token = ''; // only needed while in progress; dropping it saves memory per record
    entry.expiresAt = this.clock.now() + request.retentionMs;
    return true;
  }

  /** {@inheritDoc IdempotencyStore.release} */
  async release(key: string, token: string): Promise<boolean> {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.completed || entry.token !== token) return false;
    this.entries.delete(key);
    return true;
  }

  /** {@inheritDoc IdempotencyStore.cleanup} */
  async cleanup(): Promise<number> {
    const now = this.clock.now();
    let removed = 0;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) {
        this.entries.delete(key);
        removed++;
      }
    }
    this.expired += removed;
    this.queue = this.queue.slice(this.head).filter((item) => this.entries.get(item.key) === item);
    this.head = 0;
    return removed;
  }

  /* eslint-enable @typescript-eslint/require-await */

  /**
   * Counters for health checks and tests.
   * @returns A {@link MemoryStoreStats}.
   */
  stats(): MemoryStoreStats {
    return { size: this.entries.size, maxEntries: this.maxEntries, evicted: this.evicted, expired: this.expired };
  }

  private add(entry: Entry): void {
    this.entries.set(entry.key, entry);
    this.queue.push(entry);
    // Stale items (completed, released or expired records) are dropped as the head passes
    // them; compacting bounds the queue when many pile up behind a long-lived record.
    if (this.queue.length - this.head > 2 * this.maxEntries + 1024) {
      this.queue = this.queue.slice(this.head).filter((item) => this.entries.get(item.key) === item);
      this.head = 0;
    }
  }

  /** The oldest live record, dropping stale queue items on the way. */
  private oldest(): Entry | undefined {
    while (this.head < this.queue.length) {
      const entry = this.queue[this.head]!;
      if (this.entries.get(entry.key) === entry) return entry;
      this.dropHead();
    }
    return undefined;
  }

  /** Drops the queue's first item, letting its record be collected. */
  private dropHead(): void {
    this.queue[this.head] = undefined as unknown as Entry;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private sweep(now: number, budget: number): void {
    for (let entry = this.oldest(); entry !== undefined && budget-- > 0 && entry.expiresAt <= now; entry = this.oldest()) {
      this.entries.delete(entry.key);
      this.dropHead();
      this.expired++;
    }
  }

  private evictOldest(now: number): void {
    const entry = this.oldest();
    if (entry === undefined) return;
    this.entries.delete(entry.key);
    this.dropHead();
    if (entry.expiresAt <= now) this.expired++;
    else this.evicted++;
  }
}

/**
 * Creates a {@link MemoryIdempotencyStore}.
 *
 * @param options - See {@link MemoryStoreOptions}.
 * @returns The store.
 * @throws TypeError when `maxEntries` is not a positive integer.
 * @example
 * ```ts
 * import { createIdempotencyGuard, createMemoryStore } from '@hardening/idempotency';
 * const guard = createIdempotencyGuard({ store: createMemoryStore({ maxEntries: 10_000 }) });
 * const reply = await guard.run('SM123', async () => 'Thanks, we got your message');
 * ```
 */
export function createMemoryStore(options?: MemoryStoreOptions): MemoryIdempotencyStore {
  return new MemoryIdempotencyStore(options);
}
