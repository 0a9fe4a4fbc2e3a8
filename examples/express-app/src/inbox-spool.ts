import { appendFile, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '@hardening/core';
import type { SpooledCall } from './ingest/missed-call.js';

/** A webhook payload that could not be written to the database. */
export interface SpooledEvent {
  readonly provider: 'twilio_sms' | 'twilio_voice' | 'slack';
  readonly receivedAt: string;
  readonly payload: Record<string, unknown>;
  /** A voice status callback's fail-safe SMS, sent (or not) while the database was down. */
  readonly call?: SpooledCall;
}

/**
 * How long a write to Redis may take before the event goes to the file instead. ioredis
 * holds a command while it reconnects (about 20 s for its 2 retries here), longer than
 * Twilio waits for our answer. An event written to both is drained twice, harmlessly:
 * every drain is deduplicated (MessageSid, event_id, the call's send key).
 */
const redisWriteTimeoutMs = 1000;

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** The small slice of ioredis the spool uses. */
export interface SpoolRedis {
  rpush(key: string, value: string): Promise<number>;
  lpop(key: string, count: number): Promise<string[] | null>;
  llen(key: string): Promise<number>;
}

/**
 * Where an inbound event goes when the database cannot take it: a Redis list when Redis
 * is configured (any instance can drain it), a local append-only file otherwise. Events are
 * drained into the database by the jobs loop once it answers again, so an outage never
 * loses a customer's message. (No library spools to Redis-or-file with drain-on-recovery;
 * this is 60 lines.)
 */
export class InboxSpool {
  constructor(
    private readonly logger: Logger,
    private readonly redis: SpoolRedis | undefined,
    private readonly file: string,
    private readonly key = 'hardening-app:inbox-spool',
  ) {}

  /** Keeps `event` durably; throws only when neither Redis nor the disk takes it. */
  async put(event: SpooledEvent): Promise<void> {
    const line = JSON.stringify(event);
    if (this.redis !== undefined) {
      try {
        await withTimeout(this.redis.rpush(this.key, line), redisWriteTimeoutMs);
        return;
      } catch (error) {
        this.logger.error({ err: String(error) }, 'inbox spool: Redis refused the event; writing it to the local spool file');
      }
    }
    await mkdir(dirname(this.file), { recursive: true });
    await appendFile(this.file, `${line}\n`);
  }

  /**
   * A spooled line, or undefined when it is not one: set aside (never retried forever, never
   * silently dropped) with an error line naming where it went.
   */
  private parse(line: string): SpooledEvent | undefined {
    try {
      const event = JSON.parse(line) as SpooledEvent;
      if (typeof event === 'object' && event !== null && typeof event.provider === 'string') return event;
    } catch {
      // fall through
    }
    this.logger.error({ where: this.redis === undefined ? `${this.file}.corrupt` : `${this.key}:corrupt` }, 'inbox spool: an unreadable entry was set aside');
    return undefined;
  }

  /** Events waiting, for health and metrics. */
  async size(): Promise<number> {
    const inRedis = this.redis === undefined ? 0 : await this.redis.llen(this.key).catch(() => 0);
    const onDisk = await readFile(this.file, 'utf8').then(
      (text) => text.split('\n').filter(Boolean).length,
      () => 0,
    );
    return inRedis + onDisk;
  }

  /**
   * Hands every spooled event to `store`, oldest first; an event `store` rejects stays
   * spooled for the next drain.
   *
   * @returns How many were drained.
   */
  async drain(store: (event: SpooledEvent) => Promise<void>): Promise<number> {
    let drained = 0;
    if (this.redis !== undefined) {
      for (;;) {
        const batch = await this.redis.lpop(this.key, 50);
        if (batch === null || batch.length === 0) break;
        for (const [index, line] of batch.entries()) {
          const event = this.parse(line);
          if (event === undefined) {
            await this.redis.rpush(`${this.key}:corrupt`, line).catch(() => {});
            continue;
          }
          try {
            await store(event);
            drained++;
          } catch (error) {
            for (const rest of batch.slice(index)) await this.redis.rpush(this.key, rest);
            throw error;
          }
        }
      }
    }
    const draining = `${this.file}.draining`;
    try {
      await rename(this.file, draining);
    } catch {
      return drained;
    }
    const lines = (await readFile(draining, 'utf8')).split('\n').filter(Boolean);
    for (const [index, line] of lines.entries()) {
      const event = this.parse(line);
      if (event === undefined) {
        await appendFile(`${this.file}.corrupt`, `${line}\n`);
        continue;
      }
      try {
        await store(event);
        drained++;
      } catch (error) {
        await appendFile(this.file, lines.slice(index).map((l) => `${l}\n`).join(''));
        await rm(draining, { force: true });
        throw error;
      }
    }
    await rm(draining, { force: true });
    return drained;
  }
}
