import { createHash } from 'node:crypto';
import type { ClaimOutcome, ClaimRequest, CompleteRequest, IdempotencyStore } from './store.js';

/**
 * The slice of an ioredis client (`Redis` or `Cluster`) the store uses. ioredis is an
 * optional peer dependency: pass your own client.
 */
export interface RedisStoreClient {
  /** `SET key value PX ms NX GET`: the claim. */
  set(key: string, value: string, px: 'PX', milliseconds: number, nx: 'NX', get: 'GET'): Promise<string | null>;
  /** `SET key value PX ms XX`: a completion while the claim is surely held ({@link CompleteRequest.claimHeld}). */
  set(key: string, value: string, px: 'PX', milliseconds: number, xx: 'XX'): Promise<string | null>;
  /** Runs a cached Lua script: complete and release. */
  evalsha(sha1: string, numberOfKeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** Runs a Lua script (after `NOSCRIPT`, e.g. a `SCRIPT FLUSH` or a failover). */
  eval(script: string, numberOfKeys: number, ...args: (string | number)[]): Promise<unknown>;
  /**
   * A pipeline (ioredis `Redis`): the commands of one event-loop turn go out in one write,
   * on a client without a `stream` to cork. Optional: without either, or on a `Cluster`
   * (whose pipelines must stay within one slot), each command goes out on its own.
   */
  pipeline?(): RedisStorePipeline;
  /**
   * The connection's socket (ioredis `Redis.stream`): while commands are in flight, the
   * commands of one event-loop turn are written to it corked, so they leave together.
   * Preferred to `pipeline` when present: each command stays an ordinary command, and an
   * ioredis pipeline costs more client CPU than the writes it saves (bench/idempotency.bench.ts).
   */
  readonly stream?: RedisStoreSocket | undefined;
  /** ioredis's connection status: the socket is corked only while it is `ready`. */
  readonly status?: string;
  /** True on an ioredis `Cluster`. */
  readonly isCluster?: boolean;
}

/** The slice of a socket (`net.Socket`, `tls.TLSSocket`) the store corks. */
export interface RedisStoreSocket {
  cork(): void;
  uncork(): void;
}

/**
 * The slice of an ioredis pipeline the store uses (what `new Redis().pipeline()` returns).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import type { RedisStorePipeline } from '@hardening/idempotency';
 * const pipeline: RedisStorePipeline = new Redis().pipeline();
 * ```
 */
export interface RedisStorePipeline {
  set(key: string, value: string, px: 'PX', milliseconds: number, nx: 'NX', get: 'GET'): unknown;
  set(key: string, value: string, px: 'PX', milliseconds: number, xx: 'XX'): unknown;
  evalsha(sha1: string, numberOfKeys: number, ...args: (string | number)[]): unknown;
  /** One `[error, reply]` per command, in order. */
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

/**
 * Options for {@link createRedisStore}.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRedisStore } from '@hardening/idempotency';
 * const store = createRedisStore({ redis: new Redis(process.env.REDIS_URL!), prefix: 'myapp:idem:' });
 * ```
 */
export interface RedisStoreOptions {
  /** An ioredis `Redis` or `Cluster` client. */
  readonly redis: RedisStoreClient;
  /**
   * Prefix of every Redis key. A record is one Redis key, `<prefix>{<key>}`: the braces
   * make the key its own Redis Cluster hash tag, and every script touches that one key only.
   * @default 'hardening:idem:'
   */
  readonly prefix?: string | undefined;
  /**
   * A command that has not answered after this long fails with
   * {@link IdempotencyStoreError}, so a hung or unreachable Redis surfaces quickly instead
   * of holding webhooks until the provider times out.
   * @default 2000
   */
  readonly commandTimeoutMs?: number | undefined;
}

const defaults = { prefix: 'hardening:idem:', commandTimeoutMs: 2000 };

/**
 * The most commands one shared write (a corked socket, a pipeline) holds before it goes out.
 * Holding a whole turn's commands leaves Redis idle until the client has issued the last one
 * of them, and the client idle while Redis answers them all: 64 callers in lock-step ran at
 * 0.8x the raw pair. Flushed every 16, Redis starts on the first while the client issues the
 * rest (bench/idempotency.bench.ts, 64 concurrent on 2 cores: 69k -> 114-120k runs/s quiet;
 * 8 and 32 did no better, and under load the two are level).
 */
const commandsPerWrite = 16;

// A record is one string: "P\n<token>\n<fingerprint>" while in progress,
// "C\n<token>\n<fingerprint>\n<result>" once completed. One key per record keeps every
// operation single-key (Cluster-safe) and lets the claim be a plain SET.

// Compare-and-set on the claim token: only the current claim may complete or release.
const completeScript = `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1])) == ARGV[1] then
  redis.call('SET', KEYS[1], 'C' .. string.sub(v, 2) .. '\\n' .. ARGV[3], 'PX', ARGV[2])
  return 1
end
return 0
`;
const releaseScript = `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1])) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;
// For Redis before 7.0, where SET cannot combine NX and GET.
const claimScript = `
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
`;

const sha1 = (script: string) => createHash('sha1').update(script).digest('hex');

interface Script {
  readonly source: string;
  readonly sha: string;
}

const scripts = {
  complete: { source: completeScript, sha: sha1(completeScript) },
  release: { source: releaseScript, sha: sha1(releaseScript) },
  claim: { source: claimScript, sha: sha1(claimScript) },
};

class CommandTimeoutError extends Error {
  constructor(ms: number) {
    super(`Redis did not answer within ${ms} ms`);
    this.name = 'CommandTimeoutError';
  }
}

const claimed: ClaimOutcome = Object.freeze({ status: 'claimed' });

/**
 * The claim's reply (the previous value, or nothing) as a claim outcome. A reply that is no
 * string (nor a Buffer, from a client set to return them) fails the claim: read as a string
 * it would be "[object Object]", parsed as a completed record and replayed.
 */
function toClaimOutcome(previous: unknown): ClaimOutcome {
  if (previous === null || previous === undefined) return claimed;
  if (typeof previous === 'string') return parseRecord(previous);
  if (Buffer.isBuffer(previous)) return parseRecord(previous.toString('utf8'));
  throw new TypeError(`Expected the claim's reply to be a string or nothing, got ${Array.isArray(previous) ? 'an array' : typeof previous}.`);
}

/** A compare-and-set script's reply: 1 when it acted. */
function isOne(reply: unknown): boolean {
  return reply === 1;
}

/** A `SET ... XX` reply: OK when the key was there (and is written now), null when not. */
function isOk(reply: unknown): boolean {
  return reply === 'OK';
}

/**
 * One command in flight: settles the caller's promise with the mapped reply, or with the
 * timeout, whichever comes first. It holds the command's arguments for the one resend a
 * command may need (the script source after NOSCRIPT; the claim script after a Redis
 * before 7.0 refused SET NX GET), so the success path allocates no closures beyond the
 * two `then` callbacks.
 */
/**
 * The command, for the one resend it may need: a script run by its SHA is sent in full
 * after NOSCRIPT; the claim's `SET NX GET` becomes the claim script where Redis (before
 * 7.0) answers it with a syntax error. A completion's `SET XX` (`set-xx`) and a resent
 * command (undefined) are not sent again.
 */
type Retry = Command | undefined;

/** The commands {@link RedisIdempotencyStore} issues itself (a resend is a plain `eval`). */
type Command = Script | 'set-nx-get' | 'set-xx';

class InFlight<T> {
  settled = false;
  // Links of the store's list of commands in flight: adding and removing allocate
  // nothing (a Set's table grows and shrinks with the concurrency).
  previous: InFlight<unknown> | undefined = undefined;
  next: InFlight<unknown> | undefined = undefined;

  constructor(
    readonly deadline: number,
    readonly resolve: (value: T) => void,
    readonly reject: (error: Error) => void,
    readonly map: (reply: unknown) => T,
    /** What to resend on a failure that asks for it. */
    readonly retry: Retry,
    readonly key: string,
    readonly a: string | number,
    readonly b: string | number,
    readonly c: string | number,
  ) {}
}

/**
 * An {@link IdempotencyStore} on Redis through ioredis (`Redis` or `Cluster`).
 *
 * - Claim is one round trip: `SET key value NX PX lease GET` (a Lua script on Redis < 7).
 * - On an ioredis `Redis` (not a `Cluster`), the commands issued in one event-loop turn
 *   share socket writes of up to 16 commands: the same commands and replies, fewer writes
 *   under concurrency.
 * - Complete and release are one round trip each: a Lua compare-and-set on the claim
 *   token, so only the owner of the current claim can change the record.
 * - Redis expires records itself (lease, then retention): no cleanup job.
 * - Durability is Redis's: a Redis without persistence (or a failover that loses writes)
 *   forgets completed keys, and their duplicates run again. Use PostgreSQL when that
 *   matters more than speed.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { RedisIdempotencyStore, createIdempotencyGuard } from '@hardening/idempotency';
 * const store = new RedisIdempotencyStore({ redis: new Redis() });
 * const guard = createIdempotencyGuard({ store });
 * ```
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly redis: RedisStoreClient;
  private readonly prefix: string;
  private readonly commandTimeoutMs: number;
  private setGetSupported = true;
  /** Commands in flight, oldest first. */
  private head: InFlight<unknown> | undefined;
  private tail: InFlight<unknown> | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly pipelining: boolean;
  private readonly batching: boolean;
  /** Commands issued in this turn, sent together at its end (pipelining only). */
  private queued: InFlight<unknown>[] = [];
  /** The socket corked for the rest of this turn, if any. */
  private corked: RedisStoreSocket | undefined;
  /** Commands written to the corked socket since it was last flushed. */
  private corkedCommands = 0;

  /**
   * @param options - See {@link RedisStoreOptions}.
   * @throws TypeError when `redis` is missing or an option is invalid.
   */
  constructor(options: RedisStoreOptions) {
    const redis = options?.redis as Partial<RedisStoreClient> | undefined;
    if (redis === undefined || redis === null || typeof redis.set !== 'function' || typeof redis.evalsha !== 'function') {
      throw new TypeError('Expected `redis` to be an ioredis Redis or Cluster client.');
    }
    const { prefix = defaults.prefix, commandTimeoutMs = defaults.commandTimeoutMs } = options;
    if (typeof prefix !== 'string') throw new TypeError('Expected `prefix` to be a string.');
    if (!Number.isFinite(commandTimeoutMs) || commandTimeoutMs <= 0) {
      throw new TypeError(`Expected \`commandTimeoutMs\` to be a positive number, got ${String(commandTimeoutMs)}.`);
    }
    this.redis = options.redis;
    this.prefix = prefix;
    this.commandTimeoutMs = commandTimeoutMs;
    this.pipelining = typeof redis.pipeline === 'function' && redis.isCluster !== true;
    this.batching = redis.isCluster !== true;
  }

  /**
   * The Redis key a record lives under.
   * @param key - The full idempotency key.
   * @returns `<prefix>{<key>}`.
   */
  redisKey(key: string): string {
    return `${this.prefix}{${key}}`;
  }

  /** {@inheritDoc IdempotencyStore.claim} */
  claim(request: ClaimRequest): Promise<ClaimOutcome> {
    const redisKey = this.redisKey(request.key);
    const value = `P\n${request.token}\n${request.fingerprint}`;
    const leaseMs = Math.ceil(request.leaseMs);
    if (!this.setGetSupported) return this.script(scripts.claim, redisKey, value, leaseMs, '', toClaimOutcome);
    return this.send(toClaimOutcome, 'set-nx-get', redisKey, value, leaseMs, '');
  }

  /**
   * {@inheritDoc IdempotencyStore.complete}
   *
   * While the claim is surely held ({@link CompleteRequest.claimHeld}, with its
   * fingerprint), the record is written whole by `SET ... PX XX`: one native command where
   * the compare-and-set script cost a Lua call. In `pnpm bench idempotency` (sequential, on
   * Redis 7.0, which has no `SET IFEQ`) the guard ran at 0.87-0.90 of the raw `SET NX` +
   * `SET` pair with the script and at 0.93-0.96 with this. `XX` keeps a key the server lost
   * lost: the write then does nothing and resolves false, as the script would. Otherwise
   * the script compares the token first.
   */
  complete(request: CompleteRequest): Promise<boolean> {
    const redisKey = this.redisKey(request.key);
    const retentionMs = Math.ceil(request.retentionMs);
    if (request.claimHeld === true && request.fingerprint !== undefined) {
      return this.send(isOk, 'set-xx', redisKey, `C\n${request.token}\n${request.fingerprint}\n${request.result}`, retentionMs, '');
    }
    // The script keeps the fingerprint from the in-progress value: "P\n<token>\n<fp>"
    // becomes "C\n<token>\n<fp>\n<result>".
    return this.script(scripts.complete, redisKey, `P\n${request.token}\n`, retentionMs, request.result, isOne);
  }

  /** {@inheritDoc IdempotencyStore.release} */
  release(key: string, token: string): Promise<boolean> {
    return this.script(scripts.release, this.redisKey(key), `P\n${token}\n`, '', '', isOne);
  }

  // Three fixed arguments (unused ones empty) rather than rest parameters: this runs on
  // every complete, and the array and closure allocations showed in profiles.
  private script<T>(script: Script, key: string, a: string | number, b: string | number, c: string | number, map: (reply: unknown) => T): Promise<T> {
    return this.send(map, script, key, a, b, c);
  }

  /**
   * Sends a claim (`set-nx-get`) or a script run by its SHA. While other commands are in
   * flight, the commands of one event-loop turn share socket writes (one syscall, one read
   * for Redis, up to 16 commands each) instead of one each: written at once to the
   * connection's socket, corked until the turn ends; or, on a client without a socket to
   * cork, sent at the end of the turn in pipelines. Each command still has its own reply,
   * error, timeout and resend: corked, they are ordinary commands; pipelined, an `exec` that
   * fails as a whole (the connection) fails each of its commands as that connection would
   * have failed them one by one.
   */
  private send<T>(map: (reply: unknown) => T, retry: Command, key: string, a: string | number, b: string | number, c: string | number): Promise<T> {
    // Written at once: nothing in flight (a sequential caller, or the first command after a
    // quiet spell: nothing to share a write with, so no wait for the end of the turn either),
    // or onto the socket corked for this turn, or on a client with neither a socket nor a
    // pipeline. Otherwise queued for the turn's pipeline.
    const idle = this.head === undefined && this.queued.length === 0;
    if (!this.batching || idle || this.corked !== undefined || this.cork() || !this.pipelining) {
      const sent = this.timed(this.issue(retry, key, a, b, c), map, retry, key, a, b, c);
      if (this.corked !== undefined && ++this.corkedCommands === commandsPerWrite) this.flushCorked(this.corked);
      return sent;
    }
    return new Promise<T>((resolve, reject) => {
      const inFlight = this.track(resolve, reject, map, retry, key, a, b, c);
      const queued = this.queued.push(inFlight as InFlight<unknown>);
      if (queued === 1) setImmediate(this.flush);
      else if (queued === commandsPerWrite) this.flush();
    });
  }

  /** Writes what the corked socket holds now, and keeps it corked for the rest of the turn. */
  private flushCorked(stream: RedisStoreSocket): void {
    this.corkedCommands = 0;
    stream.uncork();
    stream.cork();
  }

  /**
   * Corks the connection's socket until the end of this turn of the event loop (its check
   * phase), when it is connected (a command issued otherwise waits in ioredis's offline
   * queue, and a socket being replaced is not one to hold writes on). False when there is no
   * socket to cork.
   *
   * The turn, not the tick: a server's callers issue their commands from separate I/O
   * callbacks (one HTTP request's data, another's database reply), each its own tick, all in
   * one poll phase. Held to the end of the tick, nearly every command of the reference app's
   * `POST /sms` left in a write of its own; held to the end of the turn, the Redis store and
   * ioredis went from 19.4 % to 16.4 % of its busy time (`pnpm bench:app` profile), with no
   * change at 64 concurrent callers of one guard (`pnpm bench idempotency`). ioredis defers
   * its own auto-pipeline the same way (`setImmediate`, to "capture multiple commands"); like
   * it, a test that fakes `setImmediate` must advance timers for a second concurrent command
   * to leave.
   */
  private cork(): boolean {
    const { stream, status } = this.redis;
    if (stream === undefined || stream === null || status !== 'ready' || typeof stream.cork !== 'function') return false;
    stream.cork();
    this.corked = stream;
    this.corkedCommands = 0;
    setImmediate(this.uncork);
    return true;
  }

  private readonly uncork = (): void => {
    const stream = this.corked;
    this.corked = undefined;
    stream?.uncork();
  };

  private issue(command: Command, key: string, a: string | number, b: string | number, c: string | number): Promise<unknown> {
    if (command === 'set-nx-get') return this.redis.set(key, a as string, 'PX', b as number, 'NX', 'GET');
    if (command === 'set-xx') return this.redis.set(key, a as string, 'PX', b as number, 'XX');
    return this.redis.evalsha(command.sha, 1, key, a, b, c);
  }

  /** Sends the turn's commands: alone as usual, or several in one pipeline. */
  private readonly flush = (): void => {
    const batch = this.queued;
    if (batch.length === 0) return; // Flushed already, full, before the turn ended.
    this.queued = [];
    if (batch.length === 1) {
      const only = batch[0]!;
      this.listen(this.issue(only.retry as Command, only.key, only.a, only.b, only.c), only);
      return;
    }
    const pipeline = this.redis.pipeline!();
    for (const inFlight of batch) {
      const command = inFlight.retry as Command;
      if (command === 'set-nx-get') pipeline.set(inFlight.key, inFlight.a as string, 'PX', inFlight.b as number, 'NX', 'GET');
      else if (command === 'set-xx') pipeline.set(inFlight.key, inFlight.a as string, 'PX', inFlight.b as number, 'XX');
      else pipeline.evalsha(command.sha, 1, inFlight.key, inFlight.a, inFlight.b, inFlight.c);
    }
    pipeline.exec().then(
      (replies) => {
        for (let i = 0; i < batch.length; i++) {
          const reply = replies?.[i];
          if (reply === undefined) this.fail(batch[i]!, new Error('Redis pipeline returned no reply for this command'));
          else if (reply[0] !== null) this.fail(batch[i]!, reply[0]);
          else this.settle(batch[i]!, reply[1]);
        }
      },
      (error: unknown) => {
        for (const inFlight of batch) this.fail(inFlight, error);
      },
    );
  };

  // One sweeping timer for every command in flight instead of a timer per command, and
  // the reply mapped inside the one promise the caller gets (no async wrapper per method):
  // a setTimeout + Promise.race per command, and an async layer per store method, cost
  // more client CPU than the round trip they guarded (bench/idempotency.bench.ts).
  private timed<T>(
    command: Promise<unknown>,
    map: (reply: unknown) => T,
    retry: Retry,
    key: string,
    a: string | number,
    b: string | number,
    c: string | number,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => this.listen(command, this.track(resolve, reject, map, retry, key, a, b, c)));
  }

  /** A command in flight from now: on the list the sweeper times out. */
  private track<T>(
    resolve: (value: T) => void,
    reject: (error: Error) => void,
    map: (reply: unknown) => T,
    retry: Retry,
    key: string,
    a: string | number,
    b: string | number,
    c: string | number,
  ): InFlight<T> {
    const inFlight = new InFlight(performance.now() + this.commandTimeoutMs, resolve, reject, map, retry, key, a, b, c);
    this.link(inFlight as InFlight<unknown>);
    if (this.sweeper === undefined) {
      this.sweeper = setInterval(() => this.sweep(), Math.max(5, Math.min(100, this.commandTimeoutMs / 10)));
      this.sweeper.unref();
    }
    return inFlight;
  }

  private listen<T>(command: Promise<unknown>, inFlight: InFlight<T>): void {
    command.then(
      (reply) => this.settle(inFlight, reply),
      (error: unknown) => this.fail(inFlight, error),
    );
  }

  private link(inFlight: InFlight<unknown>): void {
    inFlight.previous = this.tail;
    if (this.tail === undefined) this.head = inFlight;
    else this.tail.next = inFlight;
    this.tail = inFlight;
  }

  /** Marks a command settled and unlinks it; false when it was settled already. */
  private untrack(inFlight: InFlight<unknown>): boolean {
    if (inFlight.settled) return false;
    inFlight.settled = true;
    const { previous, next } = inFlight;
    if (previous === undefined) this.head = next;
    else previous.next = next;
    if (next === undefined) this.tail = previous;
    else next.previous = previous;
    inFlight.previous = inFlight.next = undefined;
    return true;
  }

  private settle<T>(inFlight: InFlight<T>, reply: unknown): void {
    if (!this.untrack(inFlight as InFlight<unknown>)) return;
    let value: T;
    try {
      value = inFlight.map(reply);
    } catch (error) {
      inFlight.reject(error as Error);
      return;
    }
    inFlight.resolve(value);
  }

  private fail<T>(inFlight: InFlight<T>, error: unknown): void {
    if (!this.untrack(inFlight as InFlight<unknown>)) return;
    const { retry, key, a, b, c } = inFlight;
    if (retry === 'set-nx-get' && isSyntaxError(error)) {
      // Redis before 7.0: SET cannot combine NX and GET. The claim script from now on.
      this.setGetSupported = false;
      this.script(scripts.claim, key, a, b, c, inFlight.map).then(inFlight.resolve, inFlight.reject);
    } else if (typeof retry === 'object' && isNoScript(error)) {
      // The script is not cached on this server yet (first call, SCRIPT FLUSH, failover): send it.
      this.timed(this.redis.eval(retry.source, 1, key, a, b, c), inFlight.map, undefined, key, a, b, c).then(inFlight.resolve, inFlight.reject);
    } else {
      inFlight.reject(error as Error);
    }
  }

  /**
   * A claim given up on may still run: a stalled server runs it late, ioredis sends it from
   * its offline queue once a restarted server is back. It would then hold the key for the
   * whole lease for a caller that was told it failed (and carried on without the store, or
   * gave up), and every duplicate would wait on it. A release of the same token, sent on the
   * same connection, runs right behind it (one connection answers in order) and frees the key;
   * where the claim never ran, the release finds nothing of its token and does nothing.
   */
  private releaseLateClaim(redisKey: string, claimValue: string): void {
    // The claim's value is "P\n<token>\n<fingerprint>"; the release matches "P\n<token>\n".
    const tokenPrefix = claimValue.slice(0, claimValue.indexOf('\n', 2) + 1);
    // Straight to ioredis, with no timeout of ours: it must run whenever the claim does, and a
    // script cache emptied by a restart (NOSCRIPT) gets the script's source.
    const { release } = scripts;
    this.redis
      .evalsha(release.sha, 1, redisKey, tokenPrefix, '', '')
      .catch((error: unknown) => (isNoScript(error) ? this.redis.eval(release.source, 1, redisKey, tokenPrefix, '', '') : undefined))
      .catch(() => undefined);
  }

  private sweep(): void {
    const now = performance.now();
    // Every command gets the same timeout, so the list is in deadline order: stop at the
    // first one that still has time.
    while (this.head !== undefined && this.head.deadline <= now) {
      const overdue = this.head;
      this.untrack(overdue);
      if (overdue.retry === 'set-nx-get' || overdue.retry === scripts.claim) this.releaseLateClaim(overdue.key, overdue.a as string);
      overdue.reject(new CommandTimeoutError(this.commandTimeoutMs));
    }
    if (this.head === undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}

/** Redis does not have the script cached (first call, SCRIPT FLUSH, a restart or failover). */
function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.includes('NOSCRIPT');
}

function isSyntaxError(error: unknown): boolean {
  return error instanceof Error && /syntax error/i.test(error.message);
}

function parseRecord(value: string): ClaimOutcome {
  const first = value.indexOf('\n');
  const second = value.indexOf('\n', first + 1);
  if (value.startsWith('P\n')) {
    return { status: 'in-progress', fingerprint: second === -1 ? '' : value.slice(second + 1), leaseRemainingMs: undefined };
  }
  const third = value.indexOf('\n', second + 1);
  return { status: 'completed', fingerprint: value.slice(second + 1, third), result: value.slice(third + 1) };
}

/**
 * Creates a {@link RedisIdempotencyStore}.
 *
 * @param options - See {@link RedisStoreOptions}.
 * @returns The store.
 * @throws TypeError when `redis` is missing or an option is invalid.
 * @example
 * ```ts
 * import { Cluster } from 'ioredis';
 * import { createIdempotencyGuard, createRedisStore } from '@hardening/idempotency';
 * const redis = new Cluster([{ host: '127.0.0.1', port: 7000 }]);
 * const guard = createIdempotencyGuard({ store: createRedisStore({ redis }) });
 * ```
 */
export function createRedisStore(options: RedisStoreOptions): RedisIdempotencyStore {
  return new RedisIdempotencyStore(options);
}
