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
  /** @default Date.now */
  readonly now?: () => number;
}

const defaults = { maxEntries: 50_000, refreshAfterMs: 300_000 };

/**
 * The businesses behind our numbers, as last read from the database: what lets a missed
 * call be texted back in the business's name while the database does not answer (a hang, an
 * outage), instead of the generic fail-safe. Filled by a full load (at start, then every few
 * minutes in the background) and by every number the call route reads.
 *
 * What it costs: a profile can be as old as the last successful read. A business renamed,
 * paused or removed since then gets its previous text during an outage (at most one text per
 * call, recorded in the outbox once the database is back). A number never read is unknown,
 * and its callers get the generic fail-safe as before.
 *
 * @example
 * ```ts
 * const directory = new BusinessDirectory(ctx.db, ctx.logger);
 * void directory.refreshIfStale();
 * directory.lookup('+15551230002'); // { ownerPhone, businessName: 'Ace Plumbing', outboundPaused: false } or undefined
 * ```
 */
export class BusinessDirectory {
  /** `null`: known to belong to no client (the fail-safe is the right text). */
  private readonly byNumber = new Map<string, BusinessProfile | null>();
  private readonly maxEntries: number;
  private readonly refreshAfterMs: number;
  private readonly now: () => number;
  private loadedAt = -Infinity;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly db: Pick<Database, 'prisma'>,
    private readonly logger: Logger,
    options: BusinessDirectoryOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? defaults.maxEntries;
    this.refreshAfterMs = options.refreshAfterMs ?? defaults.refreshAfterMs;
    this.now = options.now ?? Date.now;
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
   * Starts a full load of the assigned client numbers when the last is older than
   * `refreshAfterMs` (one at a time; never throws: a failure is logged and retried later).
   *
   * @returns The load in progress, or a settled promise when none was needed.
   */
  refreshIfStale(): Promise<void> {
    if (this.loading !== undefined || this.now() - this.loadedAt < this.refreshAfterMs) return this.loading ?? Promise.resolve();
    this.loading = this.load()
      .catch((error: unknown) => {
        // Tried again in 30 s, not on every call of an outage.
        this.loadedAt = this.now() - this.refreshAfterMs + 30_000;
        this.logger.warn({ err: scrubText(String(error)) }, 'business directory could not be loaded; missed calls use what it knows');
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  private async load(): Promise<void> {
    const numbers = await this.db.prisma.poolNumber.findMany({
      where: { status: 'ASSIGNED', role: 'CLIENT', clientId: { not: null } },
      include: { client: true },
      take: this.maxEntries,
    });
    for (const number of numbers) if (number.client !== null) this.remember(number.phoneNumber, number.client);
    this.loadedAt = this.now();
  }
}
