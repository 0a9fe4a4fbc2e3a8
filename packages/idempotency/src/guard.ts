import { randomUUID } from 'node:crypto';
import { TimeoutError, consoleLogger, isHardeningError, scrubText, type Logger, definedFields } from '@hardening/core';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { resolveTimers, type Timers } from '@hardening/core';
import { jsonCodec, type ResultCodec } from './codec.js';
import { isGuardObserved, observeGuard } from './telemetry.js';
import { IdempotencyInProgressError } from './errors/idempotency-in-progress-error.js';
import { IdempotencyStoreError } from './errors/idempotency-store-error.js';
import { IdempotencyLeaseLostError } from './errors/lease-lost-error.js';
import { IdempotencyPayloadMismatchError } from './errors/payload-mismatch-error.js';
import { fingerprintPayload } from './fingerprint.js';
import { assertIdempotencyKey } from './key.js';
import type { ClaimOutcome, CompleteRequest, IdempotencyStore } from './store.js';

/** What to do when the key is held by a run that has not finished. */
export type InProgressPolicy = 'error' | 'wait';

/**
 * Options for {@link createIdempotencyGuard}. Every per-run option has a guard-wide
 * default here.
 *
 * @example
 * ```ts
 * import { createIdempotencyGuard, createMemoryStore } from '@hardening/idempotency';
 * const guard = createIdempotencyGuard({
 *   store: createMemoryStore(),
 *   namespace: 'sms:',
 *   leaseMs: 30_000,
 *   retentionMs: 24 * 3600_000,
 *   onInProgress: 'wait',
 *   waitTimeoutMs: 10_000,
 * });
 * ```
 */
export interface IdempotencyGuardOptions {
  /** Where records live: {@link createMemoryStore}, {@link createRedisStore}, {@link createPrismaStore}. */
  readonly store: IdempotencyStore;
  /**
   * Prefix added to every key, so several guards can share a store (`'sms:'`, `'http:'`).
   * @default ''
   */
  readonly namespace?: string | undefined;
  /**
   * How long a claim holds while the function runs. If the process dies mid-run, the key
   * becomes claimable again after this long (not after the retention). Set it above the
   * slowest run you expect: the `signal` given to the function aborts when it ends.
   * @default 60_000
   */
  readonly leaseMs?: number | undefined;
  /**
   * How long a completed record (and its result) is kept for replay.
   * @default 86_400_000 (24 h)
   */
  readonly retentionMs?: number | undefined;
  /**
   * A concurrent duplicate: `'error'` throws {@link IdempotencyInProgressError} at once;
   * `'wait'` polls until the first run completes (replays its result) or fails (then this
   * caller runs the function), for at most `waitTimeoutMs`.
   * @default 'error'
   */
  readonly onInProgress?: InProgressPolicy | undefined;
  /**
   * Longest wait with `onInProgress: 'wait'`.
   * @default 10_000
   */
  readonly waitTimeoutMs?: number | undefined;
  /**
   * First poll interval while waiting; it doubles up to 1 s.
   * @default 50
   */
  readonly pollIntervalMs?: number | undefined;
  /**
   * How results are stored for replay.
   * @default JSON ({@link jsonCodec})
   */
  readonly codec?: ResultCodec<unknown> | undefined;
  /**
   * Where duplicates, store failures and lost leases are logged.
   * @default consoleLogger()
   */
  readonly logger?: Logger | undefined;
  /**
   * Time source for waits and retries.
   * @default Date.now
   */
  readonly clock?: Clock | undefined;
  /**
   * Timers for the lease signal, the record budget (`recordTimeoutMs`), the waits of
   * `onInProgress: 'wait'` and the retries of a failed record or release. Inject them (or
   * use `vi.useFakeTimers()`, which the default follows) to drive time in tests.
   * @default the global setTimeout/clearTimeout ({@link systemTimers})
   * @example
   * ```ts
   * const timers = { setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
   * const guard = createIdempotencyGuard({ store: createMemoryStore(), timers });
   * ```
   */
  readonly timers?: Timers | undefined;
  /**
   * Makes claim tokens.
   * @default crypto.randomUUID
   */
  readonly createToken?: (() => string) | undefined;
}

/**
 * Per-call options of {@link IdempotencyGuard.run}.
 *
 * @example
 * ```ts
 * await guard.run(orderKey, charge, { payload: { amount: 500, currency: 'usd' }, leaseMs: 15_000 });
 * ```
 */
export interface RunOptions<T> {
  /**
   * The request payload; its canonical-JSON fingerprint is stored with the key, and a
   * later call with the same key and another payload throws
   * {@link IdempotencyPayloadMismatchError}.
   * @default undefined (no payload check)
   */
  readonly payload?: unknown;
  /**
   * A fingerprint you computed yourself (instead of `payload`).
   * @default fingerprint of `payload`, or `''`
   */
  readonly fingerprint?: string | undefined;
  /** @default the guard's `leaseMs` */
  readonly leaseMs?: number | undefined;
  /** @default the guard's `retentionMs` */
  readonly retentionMs?: number | undefined;
  /** @default the guard's `onInProgress` */
  readonly onInProgress?: InProgressPolicy | undefined;
  /** @default the guard's `waitTimeoutMs` */
  readonly waitTimeoutMs?: number | undefined;
  /**
   * Decides whether a successful result is stored for replay. Return `false` (an HTTP 5xx
   * answer, say) to release the key instead, so a retry runs again.
   * @default every result is stored
   */
  readonly shouldStore?: ((value: T) => boolean) | undefined;
  /**
   * Once the function has returned, the longest the caller is held waiting for its result
   * to be recorded. Past it, or when recording fails, the result is returned anyway
   * (`stored: false`, `recordPending: true`) and recording goes on in the background until
   * the lease ends (failures logged). For answers that are the only copy of the result (a
   * webhook's reply the provider gives up on after its timeout): an unrecorded result is
   * still the caller's to give. Unset, the caller waits for the record and an unrecordable
   * result throws.
   * @default undefined (wait)
   */
  readonly recordTimeoutMs?: number | undefined;
}

/** What the protected function receives. */
export interface RunContext {
  /** Aborted when the lease ends: stop, another caller may take the key over. */
  readonly signal: AbortSignal;
  /** The key (without the namespace). */
  readonly key: string;
}

/** The result of {@link IdempotencyGuard.execute}. */
export interface IdempotentOutcome<T> {
  /** `executed`: the function ran now; `replayed`: a stored result of an earlier run. */
  readonly status: 'executed' | 'replayed';
  /** The function's result, fresh or replayed. */
  readonly value: T;
  /** False when `shouldStore` refused the result (the key was released), or when it was not recorded within `recordTimeoutMs`. */
  readonly stored: boolean;
  /** True when the result is returned before it was recorded (`recordTimeoutMs`): still being recorded, or recording failed. */
  readonly recordPending?: boolean;
}

const defaults = {
  namespace: '',
  leaseMs: 60_000,
  retentionMs: 86_400_000,
  onInProgress: 'error' as InProgressPolicy,
  waitTimeoutMs: 10_000,
  pollIntervalMs: 50,
  maxPollIntervalMs: 1000,
  maxFingerprintLength: 512,
};

function positive(name: string, value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  throw new TypeError(`Expected \`${name}\` to be a positive finite number, got ${String(value)}.`);
}

function nonNegative(name: string, value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  throw new TypeError(`Expected \`${name}\` to be a non-negative finite number, got ${String(value)}.`);
}

function policy(value: unknown): InProgressPolicy {
  if (value === 'error' || value === 'wait') return value;
  throw new TypeError(`Expected \`onInProgress\` to be 'error' or 'wait', got ${String(value)}.`);
}

const sleep = (timers: Timers, ms: number) => new Promise<void>((resolve) => void timers.setTimeout(resolve, ms));

/** What `run` and `execute` use when given no options (no object per call). */
const noOptions: RunOptions<unknown> = Object.freeze({});

/**
 * Runs a function at most once per key, on any {@link IdempotencyStore}. Create it with
 * {@link createIdempotencyGuard}.
 *
 * A run claims the key (IN_PROGRESS, with a lease), runs the function, then either stores
 * the result (COMPLETED, replayed to every duplicate for the retention) or, when the
 * function throws, releases the key so the provider's retry can process it: a failure
 * never leaves the key claimed and never loses the event.
 */
export class IdempotencyGuard {
  private readonly store: IdempotencyStore;
  private readonly namespace: string;
  private readonly leaseMs: number;
  private readonly retentionMs: number;
  private readonly onInProgress: InProgressPolicy;
  private readonly waitTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly codec: ResultCodec<unknown>;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly createToken: () => string;

  /**
   * @param options - See {@link IdempotencyGuardOptions}.
   * @throws TypeError naming the first invalid option.
   */
  constructor(options: IdempotencyGuardOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('Expected `options` to be an object.');
    const store = options.store as Partial<IdempotencyStore> | undefined;
    if (
      store === undefined ||
      store === null ||
      typeof store.claim !== 'function' ||
      typeof store.complete !== 'function' ||
      typeof store.release !== 'function'
    ) {
      throw new TypeError('Expected `store` to be an IdempotencyStore (claim, complete, release).');
    }
    const merged = { ...defaults, ...definedFields(options) };
    if (typeof merged.namespace !== 'string') throw new TypeError(`Expected \`namespace\` to be a string, got ${typeof merged.namespace}.`);
    this.store = options.store;
    this.namespace = merged.namespace;
    this.leaseMs = positive('leaseMs', merged.leaseMs);
    this.retentionMs = positive('retentionMs', merged.retentionMs);
    this.onInProgress = policy(merged.onInProgress);
    this.waitTimeoutMs = nonNegative('waitTimeoutMs', merged.waitTimeoutMs);
    this.pollIntervalMs = positive('pollIntervalMs', merged.pollIntervalMs);
    this.codec = options.codec ?? jsonCodec;
    this.logger = options.logger ?? consoleLogger({ component: 'idempotency' });
    this.clock = options.clock ?? systemClock;
    this.timers = resolveTimers(options.timers);
    this.createToken = options.createToken ?? randomUUID;
  }

  /**
   * Runs `fn` once for `key`; every later call with the key (within the retention) gets
   * the stored result without running it.
   *
   * @param key - A non-empty string of at most 255 bytes (a webhook's event id, an
   *   `Idempotency-Key` header).
   * @param fn - The work; receives a {@link RunContext}.
   * @param options - See {@link RunOptions}.
   * @returns The fresh or replayed result.
   * @throws {@link InvalidIdempotencyKeyError} for a bad key; {@link IdempotencyInProgressError}
   *   for a concurrent duplicate; {@link IdempotencyPayloadMismatchError} when the key was used
   *   with another payload; {@link IdempotencyStoreError} when the store fails;
   *   {@link IdempotencyLeaseLostError} when `fn` outlived its lease and lost the key;
   *   whatever `fn` throws (the key is released first).
   * @example
   * ```ts
   * import { createIdempotencyGuard, createMemoryStore } from '@hardening/idempotency';
   * const guard = createIdempotencyGuard({ store: createMemoryStore() });
   * let sent = 0;
   * const send = async () => ++sent;
   * await guard.run('SM123', send); // 1
   * await guard.run('SM123', send); // 1 (replayed, not sent again)
   * ```
   */
  run<T>(key: string, fn: (context: RunContext) => Promise<T> | T, options?: RunOptions<T>): Promise<T> {
    // Observed runs need the outcome (executed or replayed) for their span: they take the
    // execute path; unobserved ones skip the outcome object (issue 12).
    if (options?.recordTimeoutMs !== undefined || isGuardObserved()) return this.execute(key, fn, options).then(valueOf);
    return this.perform(key, fn, options ?? (noOptions as RunOptions<T>), false, undefined) as Promise<T>;
  }

  /**
   * Like {@link IdempotencyGuard.run}, but also says whether the result is fresh or replayed.
   *
   * @param key - See {@link IdempotencyGuard.run}.
   * @param fn - The work.
   * @param options - See {@link RunOptions}.
   * @returns An {@link IdempotentOutcome}.
   * @throws The same errors as {@link IdempotencyGuard.run}.
   * @example
   * ```ts
   * const outcome = await guard.execute(eventId, () => handle(event));
   * if (outcome.status === 'replayed') logger.info({ eventId }, 'duplicate event ignored');
   * ```
   */
  execute<T>(key: string, fn: (context: RunContext) => Promise<T> | T, options?: RunOptions<T>): Promise<IdempotentOutcome<T>> {
    // With no OTel provider and no channel subscriber, observeGuard only calls its argument.
    return observeGuard(this.namespace, () => this.outcomeOf(key, fn, options ?? (noOptions as RunOptions<T>)));
  }

  private outcomeOf<T>(key: string, fn: (context: RunContext) => Promise<T> | T, opts: RunOptions<T>): Promise<IdempotentOutcome<T>> {
    if (opts.recordTimeoutMs !== undefined) {
      let budgetMs: number;
      try {
        budgetMs = nonNegative('recordTimeoutMs', opts.recordTimeoutMs);
      } catch (error) {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the option check's TypeError, as a rejection like every other failure of execute
        return Promise.reject(error);
      }
      return this.answerWithin(this.namespace + key, (onValue) => this.perform(key, fn, opts, true, onValue) as Promise<IdempotentOutcome<T>>, budgetMs);
    }
    return this.perform(key, fn, opts, true, undefined) as Promise<IdempotentOutcome<T>>;
  }

  /**
   * Both {@link IdempotencyGuard.run} and {@link IdempotencyGuard.execute}: claim, run,
   * record. `outcome` says whether to wrap the value in an {@link IdempotentOutcome} (`run`
   * would only unwrap it again: one more object and one more promise on every call), and
   * `onValue` hears the value as soon as the function returns it (`recordTimeoutMs`).
   *
   * The claimed run is inline rather than a method of its own: one async frame and one
   * await less on every run (bench/idempotency.bench.ts, issue 12).
   */
  private async perform<T>(
    key: string,
    fn: (context: RunContext) => Promise<T> | T,
    options: RunOptions<T>,
    outcome: boolean,
    onValue: ((value: T) => void) | undefined,
  ): Promise<IdempotentOutcome<T> | T> {
    assertIdempotencyKey(key);
    if (typeof fn !== 'function') throw new TypeError('Expected `fn` to be a function.');
    const leaseMs = options.leaseMs === undefined ? this.leaseMs : positive('leaseMs', options.leaseMs);
    const retentionMs = options.retentionMs === undefined ? this.retentionMs : positive('retentionMs', options.retentionMs);
    const onInProgress = options.onInProgress === undefined ? this.onInProgress : policy(options.onInProgress);
    const waitTimeoutMs = options.waitTimeoutMs === undefined ? this.waitTimeoutMs : nonNegative('waitTimeoutMs', options.waitTimeoutMs);
    const fingerprint = this.fingerprintOf(options);
    const storedKey = this.namespace + key;
    const startedAt = this.clock.now();
    let pollMs = this.pollIntervalMs;

    let token: string;
    // When the claim that succeeds left (monotonic): the store's lease runs from later still.
    let claimSentAt: number;
    for (;;) {
      token = this.createToken();
      let claim: ClaimOutcome;
      try {
        claimSentAt = performance.now();
        claim = await this.store.claim({ key: storedKey, token, fingerprint, leaseMs });
      } catch (error) {
        throw this.claimFailed(storedKey, token, error);
      }
      if (claim.status === 'claimed') break;
      if (claim.fingerprint !== fingerprint) throw new IdempotencyPayloadMismatchError(claim.status);
      if (claim.status === 'completed') {
        this.logger.debug({ key: scrubText(storedKey) }, 'idempotency: duplicate, replaying stored result');
        const value = this.codec.deserialize(claim.result) as T;
        return outcome ? { status: 'replayed', value, stored: true } : value;
      }
      const waited = this.clock.now() - startedAt;
      if (onInProgress === 'error' || waited >= waitTimeoutMs) {
        throw new IdempotencyInProgressError(onInProgress === 'error' ? 0 : waited, claim.leaseRemainingMs);
      }
      await sleep(this.timers, Math.min(pollMs, waitTimeoutMs - waited));
      pollMs = Math.min(pollMs * 2, defaults.maxPollIntervalMs);
    }

    // Claimed: run, then record the result (or release the key).
    const claimedAt = this.clock.now();
    const lease = new LeaseSignal(key, leaseMs, this.timers);
    let value: T;
    try {
      value = await fn(lease);
    } catch (error) {
      lease.end();
      await this.release(storedKey, token);
      throw error;
    }
    lease.end();
    onValue?.(value);
    const { shouldStore } = options;
    if (shouldStore !== undefined && !shouldStore(value)) {
      await this.release(storedKey, token);
      return outcome ? { status: 'executed', value, stored: false } : value;
    }
    let serialized: string;
    try {
      serialized = this.codec.serialize(value);
    } catch (error) {
      await this.release(storedKey, token);
      throw new TypeError('The result of an idempotent run could not be serialized for replay; the key was released.', { cause: error });
    }
    let completed: boolean;
    try {
      // The first attempt inline: the retry loop's extra async frame costs on every run.
      completed = await this.store.complete({
        key: storedKey,
        token,
        result: serialized,
        retentionMs,
        fingerprint,
        claimHeld: claimHeld(claimSentAt, leaseMs),
      });
    } catch (error) {
      const record = { key: storedKey, token, result: serialized, retentionMs, fingerprint };
      completed = await this.retryComplete(record, claimSentAt, leaseMs, claimedAt + leaseMs, error);
    }
    if (!completed) {
      const storeLostKey = this.clock.now() - claimedAt < leaseMs;
      this.logger.error(
        { key: scrubText(storedKey), leaseMs },
        storeLostKey
          ? 'idempotency: the store lost the claim within its lease (a restart, failover or eviction); result not recorded'
          : 'idempotency: run outlived its lease and another caller took the key; result not recorded',
      );
      throw new IdempotencyLeaseLostError(leaseMs, value, storeLostKey);
    }
    return outcome ? { status: 'executed', value, stored: true } : value;
  }

  private fingerprintOf(options: RunOptions<never>): string {
    if (options.fingerprint !== undefined) {
      const fp = options.fingerprint;
      if (typeof fp !== 'string' || fp.length > defaults.maxFingerprintLength || /[\r\n]/.test(fp)) {
        throw new TypeError(`Expected \`fingerprint\` to be a single-line string of at most ${defaults.maxFingerprintLength} characters.`);
      }
      return fp;
    }
    return options.payload === undefined ? '' : fingerprintPayload(options.payload);
  }

  /** The error to throw for a failed claim. */
  private claimFailed(key: string, token: string, error: unknown): unknown {
    // Our own errors (a payload mismatch, a store that already said it is unavailable) pass
    // through; anything else the store let out (a driver error, a breaker's CircuitOpenError
    // from a hardened Prisma client) is a store failure, and callers branch on that.
    if (isHardeningError(error) && (error.code.startsWith('IDEMPOTENCY_') || error.code.startsWith('WEBHOOK_'))) return error;
    // The claim may have landed even though its reply was lost (a timeout): release it
    // with the same token, so the key is not held until the lease ends. Best effort: the
    // token check makes this a no-op when the claim never landed.
    this.store.release(key, token).then(undefined, () => {});
    this.logger.error({ key: scrubText(key), err: describe(error) }, 'idempotency: store failed to claim');
    return new IdempotencyStoreError('claim', error);
  }

  /**
   * A run (claim, function, record) whose caller waits for the record at most `budgetMs`
   * after the function produced its value: past that, or when only recording failed, the
   * value is returned unrecorded while recording goes on (until the lease ends). The claim
   * and the function are not on the budget: only the recording is.
   */
  private async answerWithin<T>(
    storedKey: string,
    run: (onValue: (value: T) => void) => Promise<IdempotentOutcome<T>>,
    budgetMs: number,
  ): Promise<IdempotentOutcome<T>> {
    let produced: { readonly value: T } | undefined;
    let ready: () => void = () => {};
    const valueReady = new Promise<void>((resolve) => (ready = resolve));
    const settled = run((value) => {
      produced = { value };
      ready();
    }).then(
      (outcome) => ({ outcome }),
      (error: unknown) => ({ error }),
    );
    let timer: unknown;
    const late = valueReady.then(() => new Promise<'late'>((resolve) => (timer = this.timers.setTimeout(() => resolve('late'), budgetMs))));
    try {
      const first = await Promise.race([settled, late]);
      if (first !== 'late' && 'outcome' in first) return first.outcome;
      // The function itself failed (or never ran): nothing to answer with.
      if (produced === undefined) throw (first as { error: unknown }).error;
      if (first === 'late') {
        this.logger.warn({ key: scrubText(storedKey), budgetMs }, 'idempotency: result returned before it was recorded (recordTimeoutMs); recording goes on');
        void settled.then((r) => {
          if ('error' in r)
            this.logger.warn({ key: scrubText(storedKey), err: describe(r.error) }, 'idempotency: a result returned unrecorded could not be recorded');
        });
      } else {
        this.logger.warn({ key: scrubText(storedKey), err: describe(first.error) }, 'idempotency: result returned unrecorded (recording failed)');
      }
      return { status: 'executed', value: produced.value, stored: false, recordPending: true };
    } finally {
      if (timer !== undefined) this.timers.clearTimeout(timer);
    }
  }

  /**
   * Completing is retried while the lease lasts: the function's effect already happened,
   * and a record left IN_PROGRESS would let a retry run it again once the lease ends.
   */
  private async retryComplete(
    record: Omit<CompleteRequest, 'claimHeld'>,
    claimSentAt: number,
    leaseMs: number,
    leaseEndsAt: number,
    firstError: unknown,
  ): Promise<boolean> {
    const { key } = record;
    let backoffMs = 100;
    let error = firstError;
    for (let attempt = 1; ; attempt++) {
      // A store that throws one of our errors has decided already (a failed transaction
      // cannot take another statement): retrying would only hold the caller up.
      if (isHardeningError(error)) throw error;
      const canRetry = this.clock.now() + backoffMs < leaseEndsAt;
      this.logger.warn({ key: scrubText(key), attempt, willRetry: canRetry, err: describe(error) }, 'idempotency: store failed to record a completed run');
      if (!canRetry) {
        this.logger.error({ key: scrubText(key) }, 'idempotency: completed run NOT recorded; a retry after the lease may run it again');
        throw new IdempotencyStoreError('complete', error, true);
      }
      await sleep(this.timers, backoffMs);
      backoffMs = Math.min(backoffMs * 2, 1000);
      try {
        // Decided again on each attempt: past half the lease, the token is compared.
        return await this.store.complete({ ...record, claimHeld: claimHeld(claimSentAt, leaseMs) });
      } catch (next) {
        error = next;
      }
    }
  }

  /** Never throws: the caller's own error matters more, and the lease bounds the damage. */
  private async release(key: string, token: string): Promise<void> {
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        await this.store.release(key, token);
        return;
      } catch (error) {
        if (attempt === 2) {
          this.logger.error({ key: scrubText(key), err: describe(error) }, 'idempotency: could not release the key; it stays claimed until its lease ends');
        } else {
          await sleep(this.timers, 50);
        }
      }
    }
  }
}

/**
 * The `signal` a run gets, created only when the function reads it: an AbortController and
 * its timer cost more than a Redis round trip's worth of CPU on the hot path, and most
 * functions never look.
 */
class LeaseSignal implements RunContext {
  private readonly startedAt = performance.now();
  private controller: AbortController | undefined;
  private timer: unknown;
  private ended = false;

  constructor(
    readonly key: string,
    private readonly leaseMs: number,
    private readonly timers: Timers,
  ) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      const controller = new AbortController();
      this.controller = controller;
      const reason = () => new TimeoutError('idempotency lease', this.leaseMs);
      const left = this.leaseMs - (performance.now() - this.startedAt);
      if (left <= 0) controller.abort(reason());
      else if (!this.ended) this.timer = this.timers.setTimeout(() => controller.abort(reason()), left);
    }
    return this.controller.signal;
  }

  end(): void {
    this.ended = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
  }
}

/**
 * Whether a claim sent at `sentAt` (performance.now()) is surely still held: less than half
 * its lease has passed, on the same monotonic clock. The store set the lease's expiry when
 * it ran the claim, after it was sent, so only a store that lost the key (a failover, an
 * eviction, a flush) could have let another caller in before then. The other half is a
 * margin for a server clock that steps (Redis expires keys by its wall clock).
 */
function claimHeld(sentAt: number, leaseMs: number): boolean {
  return performance.now() - sentAt < leaseMs / 2;
}

function valueOf<T>(outcome: IdempotentOutcome<T>): T {
  return outcome.value;
}

function describe(error: unknown): string {
  return scrubText(error instanceof Error ? error.message : String(error));
}

/**
 * Creates an {@link IdempotencyGuard}.
 *
 * @param options - See {@link IdempotencyGuardOptions}; `store` is required.
 * @returns The guard.
 * @throws TypeError naming the first invalid option.
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createIdempotencyGuard, createRedisStore } from '@hardening/idempotency';
 * const guard = createIdempotencyGuard({ store: createRedisStore({ redis: new Redis() }), namespace: 'sms:' });
 * const reply = await guard.run(messageSid, () => answerCustomer(message), { payload: message });
 * ```
 */
export function createIdempotencyGuard(options: IdempotencyGuardOptions): IdempotencyGuard {
  return new IdempotencyGuard(options);
}
