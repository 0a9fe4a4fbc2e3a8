import { appendFile, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '@hardening/core';
import type { InFlightWrite } from './domain/inline-reply.js';
import type { SpooledCall } from './ingest/missed-call.js';
import { activeTraceparent } from './message-trace.js';

/** A webhook payload that could not be written to the database. */
export interface SpooledEvent {
  readonly provider: 'twilio_sms' | 'twilio_voice' | 'slack';
  readonly receivedAt: string;
  readonly payload: Record<string, unknown>;
  /** A voice status callback's fail-safe SMS, sent (or not) while the database was down. */
  readonly call?: SpooledCall;
  /**
   * An SMS answered with the holding text while its write, which had claimed the TwiML
   * answer, was still in flight: if that write committed, the drain sends its reply through
   * the outbox (nobody received it in a TwiML answer).
   */
  readonly inFlightWrite?: InFlightWrite;
  /** Drains that failed on this event while the database was answering. */
  readonly attempts?: number;
  /** Drains that left this event for later because it could not be stored yet (`isNotYet`). */
  readonly deferrals?: number;
  /**
   * W3C traceparent of the webhook that spooled the event (set by {@link InboxSpool.put}
   * from the active span unless given): the drain's span links to it, so a message received
   * during an outage stays in its trace (issue 15).
   */
  readonly traceparent?: string;
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

/** How {@link InboxSpool.drain} tells an outage from an event that fails on its own. */
export interface DrainOptions {
  /**
   * Whether `store`'s error means the database is unavailable (then the drain stops and
   * the event stays first in line), rather than that this event cannot be stored.
   */
  readonly isOutage: (error: unknown) => Promise<boolean> | boolean;
  /** Whether the event can never be stored (refused input): set aside at once. */
  readonly isPermanent?: (error: unknown) => boolean;
  /**
   * Whether the event cannot be stored yet, through no fault of its own: another process
   * holds its key under a lease (it may have died holding it; the lease ends it). The event
   * waits for the next drain, no attempt counted, `maxDeferrals` times at most.
   */
  readonly isNotYet?: (error: unknown) => boolean;
  /** Drains an event may wait for (`isNotYet`) before its failure counts as an attempt. @default 20 */
  readonly maxDeferrals?: number;
  /** Failures (not outages) an event gets before it is set aside. @default 3 */
  readonly maxAttempts?: number;
  /** Told about every event set aside, with the (scrubbed) reason. */
  readonly onSetAside?: (event: SpooledEvent, reason: string) => void;
  /** Describes an error for the dead letter's `reason`. @default String */
  readonly describe?: (error: unknown) => string;
}

/** A spooled event that was set aside, as kept in the dead letter. */
export interface DeadSpooledEvent extends SpooledEvent {
  readonly setAsideAt: string;
  readonly reason: string;
}

const drainDefaults = { maxAttempts: 3, maxDeferrals: 20 };

/** Without options every failure stops the drain (nothing is ever set aside). */
const everyFailureIsAnOutage: DrainOptions = { isOutage: () => true };

/** The small slice of ioredis the spool uses. */
export interface SpoolRedis {
  /**
   * ioredis's connection state. Anything but `ready` (reconnecting after Redis died, say)
   * sends {@link InboxSpool.put} straight to the local file: ioredis would queue the
   * command offline, so waiting for it only spends the caller's deadline. Absent: assumed
   * ready.
   */
  readonly status?: string;
  rpush(key: string, value: string): Promise<number>;
  lpop(key: string, count: number): Promise<string[] | null>;
  llen(key: string): Promise<number>;
  lrange(key: string, start: number, stop: number): Promise<string[]>;
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

  /**
   * Keeps `event` durably; throws only when neither Redis nor the disk takes it.
   * `redisTimeoutMs` shortens the wait for Redis before the local file is used (a caller with
   * a deadline of its own: Slack's 3 s). A Redis client that is not connected (its `status`
   * is not `ready`) is not waited for at all: the event goes to the file at once.
   */
  async put(event: SpooledEvent, options: { readonly redisTimeoutMs?: number } = {}): Promise<void> {
    const traceparent = event.traceparent ?? activeTraceparent();
    const line = JSON.stringify(traceparent === null || event.traceparent !== undefined ? event : { ...event, traceparent });
    if (this.redis !== undefined) {
      const status = this.redis.status ?? 'ready';
      if (status === 'ready') {
        try {
          await withTimeout(this.redis.rpush(this.key, line), options.redisTimeoutMs ?? redisWriteTimeoutMs);
          return;
        } catch (error) {
          this.logger.error({ err: String(error) }, 'inbox spool: Redis refused the event; writing it to the local spool file');
        }
      } else {
        this.logger.warn({ redisStatus: status }, 'inbox spool: Redis is not connected; writing the event to the local spool file');
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

  /** Where set-aside events are kept: a Redis list, or a file beside the spool file. */
  get deadLetterLocation(): string {
    return this.redis === undefined ? `${this.file}.dead` : `${this.key}:dead`;
  }

  /** Events set aside, for tests and operators (the newest last). */
  async deadLetters(): Promise<DeadSpooledEvent[]> {
    const lines =
      this.redis === undefined
        ? await readFile(`${this.file}.dead`, 'utf8').then(
            (t) => t.split('\n').filter(Boolean),
            () => [],
          )
        : await this.redis.lrange(`${this.key}:dead`, 0, -1);
    return lines.map((line) => JSON.parse(line) as DeadSpooledEvent);
  }

  private async setAside(event: SpooledEvent, reason: string, options: DrainOptions): Promise<void> {
    const line = JSON.stringify({ ...event, setAsideAt: new Date().toISOString(), reason } satisfies DeadSpooledEvent);
    if (this.redis === undefined) {
      await mkdir(dirname(this.file), { recursive: true });
      await appendFile(`${this.file}.dead`, `${line}\n`);
    } else {
      await this.redis.rpush(`${this.key}:dead`, line);
    }
    this.logger.error(
      { provider: event.provider, receivedAt: event.receivedAt, attempts: event.attempts ?? 0, reason, where: this.deadLetterLocation },
      'inbox spool: an event that keeps failing was set aside',
    );
    options.onSetAside?.(event, reason);
  }

  /**
   * Stores one event. Resolves `true` when stored, `false` when it failed on its own (then
   * it went to the back of the line, or to the dead letter); rejects on an outage.
   */
  private async storeOne(
    event: SpooledEvent,
    store: (event: SpooledEvent) => Promise<void>,
    options: DrainOptions,
    requeue: (line: string) => Promise<void>,
    defer: (line: string) => void,
  ): Promise<boolean> {
    try {
      await store(event);
      return true;
    } catch (error) {
      const deferrals = (event.deferrals ?? 0) + 1;
      if (options.isNotYet?.(error) === true && deferrals <= (options.maxDeferrals ?? drainDefaults.maxDeferrals)) {
        this.logger.info(
          { provider: event.provider, deferrals },
          'inbox spool: an event cannot be stored yet (its key is held elsewhere); left for the next drain',
        );
        defer(JSON.stringify({ ...event, deferrals }));
        return false;
      }
      if (await options.isOutage(error)) throw error;
      const attempts = (event.attempts ?? 0) + 1;
      const reason = (options.describe ?? String)(error);
      if (options.isPermanent?.(error) === true || attempts >= (options.maxAttempts ?? drainDefaults.maxAttempts)) {
        await this.setAside({ ...event, attempts }, reason, options);
      } else {
        this.logger.warn({ provider: event.provider, attempts, reason }, 'inbox spool: an event failed while the database answers; retried after the others');
        await requeue(JSON.stringify({ ...event, attempts }));
      }
      return false;
    }
  }

  /**
   * Hands every spooled event to `store`, oldest first. On an outage (`isOutage`) the
   * drain stops and the events not yet stored stay spooled for the next one. An event that fails on its
   * own while the database answers goes to the back of the line; after `maxAttempts` such
   * failures (at once when `isPermanent`) it is set aside in the dead letter with an error
   * line and `onSetAside`, so it never blocks the events behind it.
   *
   * @returns How many were stored.
   */
  async drain(store: (event: SpooledEvent) => Promise<void>, options: DrainOptions = everyFailureIsAnOutage): Promise<number> {
    let drained = 0;
    if (this.redis !== undefined) {
      const redis = this.redis;
      const requeue = async (line: string) => void (await redis.rpush(this.key, line));
      // Pushed back after this drain's loop, which would otherwise pop them again at once.
      const deferred: string[] = [];
      try {
        for (;;) {
          const batch = await redis.lpop(this.key, 50);
          if (batch === null || batch.length === 0) break;
          for (const [index, line] of batch.entries()) {
            const event = this.parse(line);
            if (event === undefined) {
              await redis.rpush(`${this.key}:corrupt`, line).catch(() => {});
              continue;
            }
            try {
              if (await this.storeOne(event, store, options, requeue, (next) => deferred.push(next))) drained++;
            } catch (error) {
              for (const rest of batch.slice(index)) await redis.rpush(this.key, rest);
              throw error;
            }
          }
        }
      } finally {
        for (const line of deferred) await redis.rpush(this.key, line);
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
      // The live file was renamed away: what goes back to it waits for the next drain.
      const requeue = (next: string) => appendFile(this.file, `${next}\n`);
      const deferred: string[] = [];
      try {
        if (await this.storeOne(event, store, options, requeue, (next) => deferred.push(next))) drained++;
        for (const next of deferred.splice(0)) await requeue(next);
      } catch (error) {
        await appendFile(
          this.file,
          lines
            .slice(index)
            .map((l) => `${l}\n`)
            .join(''),
        );
        await rm(draining, { force: true });
        throw error;
      }
    }
    await rm(draining, { force: true });
    return drained;
  }
}
