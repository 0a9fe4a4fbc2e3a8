import { definedFields } from '@hardening/core';
import type { Logger } from '@hardening/core';
import type { AlertMessage } from '../alert.js';
import { describeError } from '../delivery.js';
import type { AlertStore, ClaimRequest, ClaimResult } from '../store/alert-store.js';
import { isStoreCallUnsent } from './store-health.js';

/**
 * Which rule decided a claim (in a result's `claimedVia` and the status): `store` (the primary store, fleet-wide), `durable` (the
 * durable store, fleet-wide, while the primary was down or because it held an older
 * claim), `designated` (both stores down; this instance is the designated sender and
 * dedups in its memory), `local` (both stores down, no designated sender configured:
 * every instance dedups in its own memory, so up to one page per instance), `deferred`
 * (both stores down and this instance is not the designated sender: the alert waits in
 * memory and claims again when a store answers).
 *
 * @example
 * ```ts
 * import type { ClaimPath } from '@hardening/alerting';
 * const fleetWide = (path: ClaimPath) => path === 'store' || path === 'durable';
 * ```
 */
export type ClaimPath = 'store' | 'durable' | 'designated' | 'local' | 'deferred';

/** A claim and the rule that decided it. */
export interface GateClaim extends ClaimResult {
  readonly via: ClaimPath;
  /** Why a claim was deferred (for the caller's result and the pending page). */
  readonly reason?: string;
}

/** A store call made by the service: safeCall (timeout, breaker) and health tracking. */
export type StoreCaller = <T>(which: 'primary' | 'durable', fn: () => Promise<T>) => Promise<T>;

export interface ClaimGateOptions {
  readonly primary: AlertStore;
  /** A second, durable store (PostgreSQL under a Redis primary), or undefined. */
  readonly durable: AlertStore | undefined;
  readonly call: StoreCaller;
  /** `true`: deliver from memory dedup when every store is down; `false`: defer; undefined: local dedup. */
  readonly designatedSender: boolean | undefined;
  readonly logger: Logger;
  /**
   * How long a claim whose answer is unknown (timeout, connection lost mid-request) is
   * asked again before the alert is deferred: the service's `storeTimeoutMs`.
   * @default 20_000
   */
  readonly unknownAnswerMs?: number;
  /** Milliseconds elapsed on a monotonic clock (injected for tests). @default performance.now */
  readonly elapsed?: () => number;
  /** Waits between asks (injected for tests). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaults = {
  unknownAnswerMs: 20_000,
  elapsed: () => performance.now(),
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};

/**
 * Decides who delivers an alert: one claim per (type, key) and window, fleet-wide.
 *
 * A slow store is waited for (each call is bounded by the service's `storeTimeoutMs`,
 * default 20 s). A failed primary claim goes to the durable store when there is one (it
 * arbitrates: every primary winner confirms there). Without one, the failure decides:
 * - the call never reached the store (breaker open, connection refused): the store is
 *   known down, and the designated-sender rule applies;
 * - the answer is unknown (timeout, connection lost mid-request, protocol error): the
 *   claim may have landed and made this alert the fleet's winner, or another's. It is
 *   asked again (a claim is idempotent per alert id: a retried call that had in fact won
 *   still wins) until the store answers, is known down, or `unknownAnswerMs` passes; then
 *   the alert is deferred (it waits and claims again), never delivered on a guess.
 */
export class ClaimGate {
  /** Claims in flight in this process, per key: a burst of one alert makes one store call. */
  private readonly inflight = new Map<string, Promise<GateClaim>>();
  /** Dedup of last resort while every store is down: key -> end of window. */
  private readonly localClaims = new Map<string, number>();
  /** Claims won in memory (every store down), written to a store once one answers again. */
  private readonly toReplay = new Map<string, ClaimRequest>();
  private lastWarningAt = 0;
  /** The rule that decided the last claim. */
  lastPath: ClaimPath = 'store';

  private readonly unknownAnswerMs: number;
  private readonly elapsed: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: ClaimGateOptions) {
    const resolved = { ...defaults, ...definedFields(options) };
    this.unknownAnswerMs = resolved.unknownAnswerMs;
    this.elapsed = resolved.elapsed;
    this.sleep = resolved.sleep;
  }

  /**
   * Claims the key of `message` for `windowMs`. Identical alerts in flight in this process
   * share one store call: the first is the claimer, the others its duplicates.
   */
  async claim(message: AlertMessage, now: number, windowMs: number, strict = false): Promise<GateClaim> {
    const id = `${message.type}\u0000${message.key}`;
    const inflight = this.inflight.get(id);
    if (inflight !== undefined) {
      const first = await inflight;
      return { ...first, claimed: false };
    }
    const claiming = this.decide(message, now, windowMs, strict);
    this.inflight.set(id, claiming);
    try {
      return await claiming;
    } finally {
      this.inflight.delete(id);
    }
  }

  /**
   * `strict` (an alert deferred while every store was down): a primary win must be
   * confirmed by the durable store, which may hold the designated sender's claim; when it
   * cannot be asked, the alert stays deferred.
   */
  private async decide(message: AlertMessage, now: number, windowMs: number, strict: boolean): Promise<GateClaim> {
    const request = requestOf(message, now, windowMs);
    const { primary, durable, call } = this.options;
    let primaryError: unknown;
    try {
      const won = own(request, await call('primary', () => primary.claim(request)));
      if (won.claimed && durable !== undefined) {
        // The durable store may hold a claim taken while the primary was down: honour it.
        const confirmed = await call('durable', () => durable.claim(request)).then(
          (answer) => own(request, answer),
          () => undefined,
        );
        if (confirmed !== undefined && !confirmed.claimed) return this.path({ ...confirmed, via: 'durable' });
        if (confirmed === undefined && strict) return this.path({ ...won, claimed: false, via: 'deferred' });
      }
      return this.path({ ...won, via: 'store' });
    } catch (error) {
      primaryError = error;
    }
    if (durable !== undefined) {
      try {
        const answer = own(request, await call('durable', () => durable.claim(request)));
        this.warn(
          now,
          `alert store ${primary.kind} unavailable (${describeError(primaryError)}): claims go to the durable store ${durable.kind}`,
          primaryError,
        );
        return this.path({ ...answer, via: 'durable' });
      } catch {
        // both down: fall through to the last resort
      }
    } else if (!isStoreCallUnsent(primaryError)) {
      // No arbiter besides the primary, and its answer is unknown: ask it again.
      const settled = await this.askAgain(request);
      if ('answer' in settled) return this.path({ ...settled.answer, via: 'store' });
      primaryError = settled.error;
      if (!isStoreCallUnsent(primaryError)) {
        const reason = `alert store ${primary.kind} left the claim unanswered for ${this.unknownAnswerMs} ms (${describeError(primaryError)})`;
        this.warn(now, `${reason}: the alert waits and claims again; it is not delivered on a guess`, primaryError);
        return this.path({ ...deferredClaim(message, now), reason });
      }
    }
    if (strict) return this.path(deferredClaim(message, now));
    return this.lastResort(message, now, windowMs, primaryError);
  }

  /**
   * Asks the primary again for a claim whose answer was lost, with backoff, until it
   * answers, the call is known not to reach it (breaker open, refused), or
   * `unknownAnswerMs` has passed since the first ask.
   */
  private async askAgain(request: ClaimRequest): Promise<{ answer: ClaimResult } | { error: unknown }> {
    const { primary, call } = this.options;
    const deadline = this.elapsed() + this.unknownAnswerMs;
    let delay = 100;
    let error: unknown;
    do {
      await this.sleep(delay);
      delay = Math.min(delay * 2, 2000);
      try {
        return { answer: own(request, await call('primary', () => primary.claim(request))) };
      } catch (next) {
        error = next;
      }
    } while (!isStoreCallUnsent(error) && this.elapsed() < deadline);
    return { error };
  }

  private lastResort(message: AlertMessage, now: number, windowMs: number, error: unknown): GateClaim {
    const { designatedSender } = this.options;
    if (designatedSender === false) {
      this.warn(now, 'every alert store is unavailable and this instance is not the designated sender: alerts wait here until a store answers', error);
      return this.path(deferredClaim(message, now));
    }
    const via: ClaimPath = designatedSender === true ? 'designated' : 'local';
    this.warn(
      now,
      via === 'designated'
        ? 'every alert store is unavailable: this instance is the designated sender and delivers with dedup held in its memory'
        : 'every alert store is unavailable: delivering with dedup held in this process only (up to one page per instance); configure designatedSender',
      error,
    );
    const local = `${message.type}\u0000${message.key}`;
    for (const [key, until] of this.localClaims) if (until <= now) this.localClaims.delete(key);
    const until = this.localClaims.get(local);
    if (until !== undefined)
      return this.path({ claimed: false, alertId: 'local', severity: message.severity, firstSeenAt: now, expiresAt: until, occurrences: 0, via });
    this.localClaims.set(local, now + windowMs);
    this.toReplay.set(local, requestOf(message, now, windowMs));
    return this.path({ claimed: true, alertId: message.id, severity: message.severity, firstSeenAt: now, expiresAt: now + windowMs, occurrences: 1, via });
  }

  /**
   * Writes the claims won in memory while every store was down into the first store that
   * answers, so that instances which deferred their alerts see them as duplicates.
   * Called by maintenance; stops at the first failure.
   */
  async replay(): Promise<number> {
    let written = 0;
    for (const [id, request] of this.toReplay) {
      const store = this.options.durable ?? this.options.primary;
      try {
        await this.options.call(store === this.options.primary ? 'primary' : 'durable', () => store.claim(request));
        if (this.options.durable !== undefined) await this.options.call('primary', () => this.options.primary.claim(request)).catch(() => undefined);
      } catch {
        break;
      }
      this.toReplay.delete(id);
      written++;
    }
    return written;
  }

  private path(claim: GateClaim): GateClaim {
    this.lastPath = claim.via;
    return claim;
  }

  private warn(now: number, text: string, error: unknown): void {
    if (now - this.lastWarningAt < 60_000) return;
    this.lastWarningAt = now;
    this.options.logger.error({ store: this.options.primary.kind, err: describeError(error) }, text);
  }
}

function requestOf(message: AlertMessage, now: number, windowMs: number): ClaimRequest {
  return {
    alertId: message.id,
    type: message.type,
    key: message.key,
    resourceId: message.resourceId,
    severity: message.severity,
    title: message.title,
    payload: JSON.stringify(message),
    now,
    windowMs,
  };
}

function deferredClaim(message: AlertMessage, now: number): GateClaim {
  return { claimed: false, alertId: message.id, severity: message.severity, firstSeenAt: now, expiresAt: now, occurrences: 0, via: 'deferred' };
}

/** A retried claim that had already won answers "held by you": that is a win. */
function own(request: ClaimRequest, answer: ClaimResult): ClaimResult {
  return !answer.claimed && answer.alertId === request.alertId ? { ...answer, claimed: true } : answer;
}
