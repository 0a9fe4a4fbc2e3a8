import type { DbOrTx } from '../../db/types.js';

/** Options of {@link HaltedSenders}. */
export interface HaltedSendersOptions {
  /**
   * {@link HaltedSenders.refreshIfStale} reads every active halt again when the last full
   * read is older than this.
   * @default 5_000
   */
  readonly refreshAfterMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

const defaults = { refreshAfterMs: 5000 };

/**
 * The halted senders as this process last read them from the database (`sms_sender_halts`,
 * the shared truth every instance checks before each send): what lets a send that cannot
 * read the database (the missed-call fail-safe, sent while PostgreSQL fails) still respect
 * a campaign breaker. Kept current by every halt the deliverability rules read or write,
 * and by a full read at most every `refreshAfterMs` from the outbox loop.
 *
 * What it costs: a halt is known here up to `refreshAfterMs` (plus a slow outbox round)
 * after another instance wrote it, and not at all when the database failed before this
 * process first read it. A sender never read is `undefined`: the fail-safe then sends, as
 * before (its text may be refused by the carrier, as any text sent in that window).
 *
 * @example
 * ```ts
 * const halts = new HaltedSenders();
 * halts.remember('+15551230002', true);
 * halts.isHalted('+15551230002'); // true
 * halts.isHalted('+15551230003'); // undefined: never read
 * ```
 */
export class HaltedSenders {
  /** Each sender's state and when it was read (a full read older than a single one does not overwrite it). */
  private readonly known = new Map<string, { halted: boolean; at: number }>();
  private readonly refreshAfterMs: number;
  private readonly now: () => number;
  private readAt = -Infinity;
  private reading: Promise<void> | undefined;

  constructor(options: HaltedSendersOptions = {}) {
    this.refreshAfterMs = options.refreshAfterMs ?? defaults.refreshAfterMs;
    this.now = options.now ?? Date.now;
  }

  /**
   * Whether `from` was halted when last read.
   *
   * @returns `true` halted, `false` sending, `undefined` never read.
   */
  isHalted(from: string): boolean | undefined {
    return this.known.get(from)?.halted;
  }

  /** Records what the database just said of `from`. */
  remember(from: string, halted: boolean): void {
    this.known.set(from, { halted, at: this.now() });
  }

  /**
   * Reads every active halt (one query on a table of one row per halted number) when the
   * last read is older than `refreshAfterMs`; a failed read keeps what was known.
   *
   * @returns Whether it read.
   */
  async refreshIfStale(db: DbOrTx): Promise<boolean> {
    if (this.now() - this.readAt < this.refreshAfterMs) return false;
    this.reading ??= (async () => {
      try {
        const startedAt = this.now();
        const rows = await db.smsSenderHalt.findMany({ where: { active: true }, select: { fromPhone: true } });
        const halted = new Set(rows.map((r) => r.fromPhone));
        for (const [from, known] of this.known)
          if (known.halted && !halted.has(from) && known.at < startedAt) this.known.set(from, { halted: false, at: startedAt });
        for (const from of halted) if ((this.known.get(from)?.at ?? -Infinity) < startedAt) this.known.set(from, { halted: true, at: startedAt });
        this.readAt = startedAt;
      } finally {
        this.reading = undefined;
      }
    })();
    await this.reading;
    return true;
  }
}
