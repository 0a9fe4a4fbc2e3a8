import type { Logger } from '@hardening/core';
import { scrubText } from '@hardening/core';
import type { Client } from '../db/generated/client.js';
import type { Database } from '../db/database.js';

/** What a missed call needs to know about the business whose number was called. */
export interface BusinessProfile {
  /** The owner's phone: their own call to the number is not a customer's. */
  readonly ownerPhone: string;
  readonly businessName: string | null;
  readonly outboundPaused: boolean;
}

/** Options of {@link BusinessDirectory}. */
export interface BusinessDirectoryOptions {
  /**
   * Numbers remembered at most (a full load reads this many assigned numbers).
   * @default 50_000
   */
  readonly maxEntries?: number;
  /**
   * A full reload is started (in the background, by {@link BusinessDirectory.refreshIfStale})
   * when the last one is older than this.
   * @default 300_000 (5 min)
   */
  readonly refreshAfterMs?: number;
  /**
   * Between full loads, the numbers assigned and the clients changed since the last read
   * (renamed, paused) are read this often, by {@link BusinessDirectory.start}'s timer and on
   * calls: a business that signed up on another instance is known here within this. Two
   * indexed reads of a few rows each time.
   * @default 2000
   */
  readonly changesEveryMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

const defaults = { maxEntries: 50_000, refreshAfterMs: 300_000, changesEveryMs: 2000 };
/**
 * How far back a read of changes reaches before the previous read began: `updated_at` is
 * stamped by the database's clock (raw statements) or this process's (Prisma), and a
 * transaction commits after its stamp. Re-reading a minute of changes costs a few rows.
 */
const changesOverlapMs = 60_000;

/**
 * The businesses behind our numbers, as last read from the database: what lets a missed
 * call be texted back in the business's name while the database does not answer (a hang, an
 * outage), instead of the generic fail-safe. Filled by a full load (at start, then every few
 * minutes in the background) and by every number the call route reads.
 *
 * What it costs: a profile can be as old as the last successful read (`changesEveryMs`,
 * 2 s, for a number assigned or a client changed on any instance). A business renamed,
 * paused or removed since then gets its previous text during an outage (at most one text per
 * call, recorded in the outbox once the database is back). A number never read is unknown,
 * and its callers get the generic fail-safe as before.
 *
 * @example
 * ```ts
 * const directory = new BusinessDirectory(ctx.db, ctx.logger);
 * directory.start(); // a full load now, changes every 2 s, a full load every 5 min
 * directory.lookup('+15551230002'); // { ownerPhone, businessName: 'Ace Plumbing', outboundPaused: false } or undefined
 * directory.close();
 * ```
 */
export class BusinessDirectory {
  /** `null`: known to belong to no client (the fail-safe is the right text). */
  private readonly byNumber = new Map<string, BusinessProfile | null>();
  private readonly maxEntries: number;
  private readonly refreshAfterMs: number;
  private readonly changesEveryMs: number;
  private readonly now: () => number;
  private loadedAt = -Infinity;
  /** When the last read (full or of changes) that succeeded began: the next change read starts there. */
  private readFrom = -Infinity;
  /** No read starts before this (one every `changesEveryMs`, failed or not). */
  private nextReadAt = -Infinity;
  private loading: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(
    private readonly db: Pick<Database, 'prisma'>,
    private readonly logger: Logger,
    options: BusinessDirectoryOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? defaults.maxEntries;
    this.refreshAfterMs = options.refreshAfterMs ?? defaults.refreshAfterMs;
    this.changesEveryMs = options.changesEveryMs ?? defaults.changesEveryMs;
    this.now = options.now ?? Date.now;
  }

  /** Loads now, then keeps reading changes every `changesEveryMs` until {@link BusinessDirectory.close}. */
  start(): void {
    if (this.timer !== undefined || this.closed) return;
    const tick = () => {
      void this.refreshIfStale().finally(() => {
        if (this.closed) return;
        this.timer = setTimeout(tick, this.changesEveryMs);
        this.timer.unref();
      });
    };
    tick();
  }

  /** Stops the timer (a read in progress ends on its own). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  /** The business behind `number`; `null` when it is no client's; undefined when never read. */
  lookup(number: string): BusinessProfile | null | undefined {
    return this.byNumber.get(number);
  }

  /** Records what the database just said about `number` (a client, or `null` for none). */
  remember(number: string, client: Pick<Client, 'phone' | 'businessName' | 'outboundPaused'> | null): void {
    this.byNumber.delete(number); // re-inserted last: the oldest are dropped first
    this.byNumber.set(number, client === null ? null : { ownerPhone: client.phone, businessName: client.businessName, outboundPaused: client.outboundPaused });
    for (const [key] of this.byNumber) {
      if (this.byNumber.size <= this.maxEntries) break;
      this.byNumber.delete(key);
    }
  }

  /**
   * Starts a full load of the assigned client numbers when none succeeded yet or the last is
   * older than `refreshAfterMs`, else a read of the changes since the last successful read; at
   * most one read every `changesEveryMs`, one at a time. Never throws: a failure is logged and
   * retried later.
   *
   * @returns The read in progress, or a settled promise when none was needed.
   */
  refreshIfStale(): Promise<void> {
    if (this.loading !== undefined) return this.loading;
    const now = this.now();
    // Nothing read yet: only a full load can tell what there is.
    const full = this.readFrom === -Infinity || now - this.loadedAt >= this.refreshAfterMs;
    if (now < this.nextReadAt) return Promise.resolve();
    this.nextReadAt = now + this.changesEveryMs;
    this.loading = this.load(full ? undefined : new Date(this.readFrom - changesOverlapMs))
      .then(() => {
        if (full) this.loadedAt = now;
        this.readFrom = now;
      })
      .catch((error: unknown) => {
        // A failed full load is tried again in 30 s (when one ever succeeded; the change reads
        // keep the directory current meanwhile), a change read at the next one. `readFrom` stays
        // where the last successful read began, so the next read covers the whole outage: a
        // business that signed up during it is not skipped.
        if (full) this.loadedAt = now - this.refreshAfterMs + 30_000;
        this.logger.warn({ err: scrubText(String(error)) }, 'business directory could not be read; missed calls use what it knows');
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  /**
   * Reads every assigned client number, or (with `changedSince`) those assigned since then
   * and those whose client changed since then: two range scans on indexes
   * (`pool_numbers.assigned_at`, `clients.updated_at`), a few rows each.
   */
  private async load(changedSince?: Date): Promise<void> {
    const assigned = { status: 'ASSIGNED', role: 'CLIENT', clientId: { not: null } } as const;
    const wheres =
      changedSince === undefined
        ? [assigned]
        : [
            { ...assigned, assignedAt: { gte: changedSince } },
            { ...assigned, client: { updatedAt: { gte: changedSince } } },
          ];
    for (const where of wheres) {
      const numbers = await this.db.prisma.poolNumber.findMany({ where, include: { client: true }, take: this.maxEntries });
      for (const number of numbers) if (number.client !== null) this.remember(number.phoneNumber, number.client);
    }
  }
}
