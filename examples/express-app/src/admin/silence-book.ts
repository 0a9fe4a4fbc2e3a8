import { randomUUID } from 'node:crypto';
import type { AlertService, RestoreSilence, SilenceMatcher } from '@hardening/alerting';
import type { Logger } from '@hardening/core';
import { scrubText } from '@hardening/core';

/** Alert severities a silence can match. */
export type SilenceSeverity = 'LOW' | 'MEDIUM' | 'HIGH';

/** Which alerts a silence mutes: every field given must match; none mutes everything. */
export interface SilenceRecordMatcher {
  readonly type?: readonly string[];
  readonly resourceId?: readonly string[];
  readonly severity?: readonly SilenceSeverity[];
}

/** A silence as the admin API shows and stores it. */
export interface SilenceRecord {
  readonly id: string;
  readonly matcher: SilenceRecordMatcher;
  readonly reason: string | undefined;
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601. */
  readonly until: string;
}

/** The slice of ioredis the book uses. */
export interface SilenceRedis {
  hset(key: string, field: string, value: string): Promise<number>;
  hdel(key: string, ...fields: string[]): Promise<number>;
  hgetall(key: string): Promise<Record<string, string>>;
}

/** Options of {@link SilenceBook}. */
export interface SilenceBookOptions {
  readonly alerts: Pick<AlertService, 'silenceAlerts'>;
  readonly logger: Logger;
  /** Where silences are shared between instances; without it they live in this process. */
  readonly redis?: SilenceRedis;
  /** The Redis hash holding them. @default 'hardening-app:alert-silences' */
  readonly key?: string;
  /** How often an instance picks up silences created or deleted elsewhere. @default 5000 */
  readonly syncIntervalMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

const defaults = { key: 'hardening-app:alert-silences', syncIntervalMs: 5000 };

interface Applied {
  readonly record: SilenceRecord;
  readonly restore: RestoreSilence;
}

/**
 * The admin API's alert silences, addressable by id. `@hardening/alerting` keeps silences
 * in the process that created them; with several instances behind a load balancer a
 * silence must mute alerts on every one of them, so with Redis each silence is also written
 * to a hash, and every instance applies what it finds there (and ends what was deleted)
 * every `syncIntervalMs` and before each listing. Without Redis (one instance) the book is
 * in memory, and a restart ends every silence: alerts come back, never the reverse.
 */
export class SilenceBook {
  private readonly applied = new Map<string, Applied>();
  private readonly key: string;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;

  constructor(private readonly options: SilenceBookOptions) {
    this.key = options.key ?? defaults.key;
    this.now = options.now ?? Date.now;
  }

  /** Starts picking up other instances' silences (only with Redis). */
  start(): void {
    if (this.options.redis === undefined || this.timer !== undefined) return;
    this.timer = setInterval(() => void this.sync().catch(() => {}), this.options.syncIntervalMs ?? defaults.syncIntervalMs);
    this.timer.unref();
    void this.sync().catch(() => {});
  }

  /** Stops the sync; silences stay applied in this process until it ends. */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Creates a silence until `until`.
   *
   * @throws TypeError when the alert service refuses it (end in the past or over 7 days ahead).
   * @throws Redis errors when it cannot be shared (nothing is applied then).
   */
  async create(input: { readonly matcher: SilenceRecordMatcher; readonly until: Date; readonly reason?: string | undefined }): Promise<SilenceRecord> {
    const record: SilenceRecord = {
      id: randomUUID(),
      matcher: input.matcher,
      reason: input.reason,
      createdAt: new Date(this.now()).toISOString(),
      until: input.until.toISOString(),
    };
    // Applied first: a bad silence is refused before anything is shared.
    const restore = this.apply(record);
    try {
      await this.options.redis?.hset(this.key, record.id, JSON.stringify(record));
    } catch (error) {
      restore();
      this.applied.delete(record.id);
      throw error;
    }
    return record;
  }

  /** Active silences, soonest end first. */
  async list(): Promise<SilenceRecord[]> {
    await this.sync().catch(() => {}); // logged; the ones applied here are still true
    const now = this.now();
    for (const [id, entry] of this.applied) if (Date.parse(entry.record.until) <= now) this.applied.delete(id);
    return [...this.applied.values()].map((entry) => entry.record).sort((a, b) => a.until.localeCompare(b.until));
  }

  /**
   * Ends a silence (on every instance: the others at their next sync).
   *
   * @returns False when no active silence has this id.
   */
  async remove(id: string): Promise<boolean> {
    await this.sync().catch(() => {}); // logged; the delete below still reaches Redis or throws
    const entry = this.applied.get(id);
    const removedRemotely = (await this.options.redis?.hdel(this.key, id)) ?? 0;
    if (entry === undefined) return removedRemotely > 0;
    entry.restore();
    this.applied.delete(id);
    return Date.parse(entry.record.until) > this.now();
  }

  /** Applies silences created elsewhere and ends those deleted elsewhere (Redis only). */
  sync(): Promise<void> {
    const redis = this.options.redis;
    if (redis === undefined) return Promise.resolve();
    // One sync at a time: a listing joins the running one.
    this.syncing ??= (async () => {
      try {
        const stored = await redis.hgetall(this.key);
        const now = this.now();
        const expired: string[] = [];
        for (const [id, json] of Object.entries(stored)) {
          let record: SilenceRecord;
          try {
            record = JSON.parse(json) as SilenceRecord;
          } catch {
            this.options.logger.warn({ silenceId: id }, 'alert silence in Redis is not JSON; ignored');
            continue;
          }
          if (Date.parse(record.until) <= now) {
            expired.push(id);
            continue;
          }
          if (this.applied.has(id)) continue;
          try {
            this.apply(record);
          } catch (error) {
            this.options.logger.warn({ silenceId: id, err: scrubText(String(error)) }, 'alert silence in Redis refused by the alert service; ignored');
          }
        }
        for (const [id, entry] of this.applied) {
          if (!(id in stored)) {
            entry.restore();
            this.applied.delete(id);
          }
        }
        if (expired.length > 0) await redis.hdel(this.key, ...expired);
      } catch (error) {
        this.options.logger.warn({ err: scrubText(String(error)) }, 'alert silences: could not sync with Redis; keeping the ones applied here');
        throw error;
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  private apply(record: SilenceRecord): RestoreSilence {
    const matcher: SilenceMatcher = {
      ...(record.matcher.type === undefined ? {} : { type: record.matcher.type }),
      ...(record.matcher.resourceId === undefined ? {} : { resourceId: record.matcher.resourceId }),
      ...(record.matcher.severity === undefined ? {} : { severity: record.matcher.severity }),
    };
    const restore = this.options.alerts.silenceAlerts(matcher, { until: new Date(record.until), ...(record.reason === undefined ? {} : { reason: record.reason }) });
    this.applied.set(record.id, { record, restore });
    return restore;
  }
}
