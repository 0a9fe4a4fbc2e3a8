import { CircuitOpenError } from './circuit-open-error.js';
import type { CircuitState, StateChange, StateChangeReason } from './circuit-state.js';
import type { CircuitBreakerOptions, ResolvedBreakerOptions } from './options.js';
import { resolveBreakerOptions } from './options.js';
import type { WindowTotals } from './sliding-window.js';
import type { BreakerState, HalfOpenState } from './breaker-state.js';
import { closedState } from './breaker-state.js';
import { OpeningRules } from './opening-rules.js';
import { breakerTelemetry } from './telemetry.js';

/**
 * A point-in-time view of a breaker, for health endpoints, metrics and admin pages.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from '@hardening/circuit-breaker';
 * const { state, nextAttemptAt } = new CircuitBreaker({ name: 'slack' }).snapshot();
 * ```
 */
export interface CircuitBreakerSnapshot {
  /** Breaker name. */
  readonly name: string;
  /** Current state. */
  readonly state: CircuitState;
  /** Failures in a row while closed. */
  readonly consecutiveFailures: number;
  /** Totals over the sliding window, when a rate threshold is configured. */
  readonly window: (WindowTotals & { readonly failureRate: number; readonly slowCallRate: number }) | undefined;
  /** When the breaker last opened (epoch ms), while open, half-open or isolated. */
  readonly openedAt: number | undefined;
  /** When an open breaker lets the next probe through (epoch ms). */
  readonly nextAttemptAt: number | undefined;
  /** Probes admitted and their outcomes so far, while half-open. */
  readonly probes: { readonly admitted: number; readonly succeeded: number; readonly failed: number };
  /** Lifetime counters. */
  readonly totals: {
    readonly successes: number;
    readonly failures: number;
    readonly ignored: number;
    readonly rejections: number;
  };
  /** When the state last changed (epoch ms). */
  readonly stateChangedAt: number;
}

/**
 * What {@link CircuitBreaker.save} returns and {@link CircuitBreaker.restore} accepts: plain
 * JSON, so it can go to a file, a database row or Redis.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from '@hardening/circuit-breaker';
 * const a = new CircuitBreaker({ name: 'twilio_sms' });
 * a.open();
 * const b = new CircuitBreaker({ name: 'twilio_sms' });
 * b.restore(JSON.parse(JSON.stringify(a.save())));
 * ```
 */
export interface SavedBreakerState {
  readonly name: string;
  readonly state: CircuitState;
  readonly consecutiveFailures: number;
  readonly openedAt?: number;
  readonly nextAttemptAt?: number;
}

/**
 * @internal Decides, when an open breaker's cooldown has elapsed, whether this process may
 * start probing now. Used by the Redis shared state so only one process probes; it returns
 * `false` to stay open and calls `startProbing` later.
 */
export type ProbeGate = (breaker: CircuitBreaker) => boolean;

/**
 * @internal What shared state (`redis-shared-state.ts`) may do to a breaker. Not part of
 * the public API: the index does not export it and the class does not show it.
 */
export interface SharedStateAccess {
  /** Applies a state decided by another process; listeners see reason `remote`. */
  applyRemoteState(state: 'open' | 'closed', nextAttemptAt?: number): void;
  /** Installs (or removes) the gate consulted when an open breaker's cooldown has elapsed. */
  setProbeGate(gate: ProbeGate | undefined): void;
  /** Moves an open breaker to half-open; returns whether it is now half-open. */
  startProbing(): boolean;
}

let accessOf: (breaker: CircuitBreaker) => SharedStateAccess;

/** @internal The shared-state hooks of `breaker` (see {@link SharedStateAccess}). */
export function sharedStateAccess(breaker: CircuitBreaker): SharedStateAccess {
  return accessOf(breaker);
}

/** A state-change listener. */
export type StateChangeListener = (change: StateChange) => void;

/** Permit value meaning "refused". */
const REFUSED = -1;

const noProbes = Object.freeze({ admitted: 0, succeeded: 0, failed: 0 });

/**
 * A circuit breaker: closed, open, half-open, plus a manual isolated state.
 *
 * It opens on `failureThreshold` consecutive failures, or on a failure rate or slow-call
 * rate over a count- or time-based sliding window once `minimumCalls` calls are in it.
 * After `cooldownMs` it lets `halfOpenMaxCalls` probes through and closes or re-opens on
 * their outcome. It holds no timers and no per-call state, so one call's timeout or abort
 * can never cancel another call on the same breaker. {@link CircuitBreaker.configure}
 * changes any rule while it runs.
 *
 * Most code uses {@link CircuitBreaker.execute}. Hot paths (such as `@hardening/core`'s
 * `safeCall`) use the allocation-free trio {@link CircuitBreaker.acquire},
 * {@link CircuitBreaker.recordSuccess} and {@link CircuitBreaker.recordFailure}.
 *
 * @example
 * ```ts
 * import { CircuitBreaker, isCircuitOpenError } from '@hardening/circuit-breaker';
 *
 * const breaker = new CircuitBreaker({ name: 'twilio_sms', failureThreshold: 3, cooldownMs: 30_000 });
 * breaker.onStateChange(({ from, to, reason }) => console.warn(`twilio_sms ${from} -> ${to} (${reason})`));
 * try {
 *   await breaker.execute(() => fetch('http://127.0.0.1:9/').then((r) => r.status));
 * } catch (error) {
 *   if (isCircuitOpenError(error)) console.log('Twilio is down; not calling it');
 * }
 * ```
 */
export class CircuitBreaker {
  static {
    accessOf = (breaker) => ({
      applyRemoteState: (state, nextAttemptAt) => breaker.#applyRemoteState(state, nextAttemptAt),
      setProbeGate: (gate) => {
        breaker.#probeGate = gate;
      },
      startProbing: () => breaker.#startProbing(),
    });
  }

  /** The breaker's name. */
  readonly name: string;
  #raw: CircuitBreakerOptions;
  #options: ResolvedBreakerOptions;
  #rules: OpeningRules;
  #state: BreakerState = closedState;
  /** Bumped on every transition; a permit from an older generation no longer counts. */
  #generation = 0;
  #stateChangedAt: number;
  #successes = 0;
  #failures = 0;
  #ignored = 0;
  #rejections = 0;
  #listeners: StateChangeListener[] = [];
  #probeGate: ProbeGate | undefined;

  /**
   * @param options - See {@link CircuitBreakerOptions}.
   * @throws TypeError when an option is out of range.
   */
  constructor(options: CircuitBreakerOptions = {}) {
    this.#raw = { ...options };
    this.#options = resolveBreakerOptions(this.#raw);
    this.name = this.#options.name;
    this.#rules = OpeningRules.compose(this.#options);
    this.#stateChangedAt = this.#options.clock.now();
    breakerTelemetry.track(this);
  }

  /** Options with defaults applied, as last set by the constructor or {@link CircuitBreaker.configure}. */
  get options(): ResolvedBreakerOptions {
    return this.#options;
  }

  /** The current state. Reading it never changes it (an elapsed cooldown shows as `open`). */
  get state(): CircuitState {
    return this.#state.kind;
  }

  /**
   * Changes the breaker's options while it runs; every rule takes the new values from the
   * next recorded outcome on. Fields you pass replace the current ones, fields you leave out
   * keep theirs, and a field set to `undefined` goes back to its default (so
   * `{ slowCallRateThreshold: undefined }` turns that rule off). The state and counts stay;
   * the sliding window starts empty when a rate rule is first turned on or `slidingWindow`
   * changes. The name cannot change.
   *
   * @param options - The options to change.
   * @throws TypeError when an option is out of range (the breaker keeps its old options).
   * @example
   * ```ts
   * import { CircuitBreaker } from '@hardening/circuit-breaker';
   * const breaker = new CircuitBreaker({ name: 'openai_chat' });
   * await breaker.execute(async () => 'first call');
   * breaker.configure({ slowCallRateThreshold: 50, slowCallDurationMs: 10_000, minimumCalls: 4 });
   * ```
   */
  configure(options: Omit<CircuitBreakerOptions, 'name'>): void {
    const raw: CircuitBreakerOptions = { ...this.#raw, ...options, name: this.name };
    const resolved = resolveBreakerOptions(raw);
    this.#rules = OpeningRules.compose(resolved, { rules: this.#rules, options: this.#options });
    this.#raw = raw;
    this.#options = resolved;
  }

  /**
   * Asks to make a call. Returns a permit (a non-negative number) to pass to
   * {@link CircuitBreaker.recordSuccess} or {@link CircuitBreaker.recordFailure}, or `-1`
   * when the call is refused (build the error with {@link CircuitBreaker.refusal}).
   *
   * @returns A permit, or -1.
   * @example
   * ```ts
   * import { CircuitBreaker } from '@hardening/circuit-breaker';
   * const breaker = new CircuitBreaker();
   * const permit = breaker.acquire();
   * if (permit < 0) throw breaker.refusal();
   * breaker.recordSuccess(permit, 12);
   * ```
   */
  acquire(): number {
    const state = this.#state;
    switch (state.kind) {
      case 'closed':
        return this.#generation;
      case 'open': {
        const now = this.#options.clock.now();
        if (now < state.nextAttemptAt || (this.#probeGate !== undefined && !this.#probeGate(this))) {
          this.#rejections++;
          breakerTelemetry.call(this.name, 'not_permitted', 0, state.kind);
          return REFUSED;
        }
        this.#transition('half-open', 'cooldown-elapsed', now);
        return this.#admitProbe(this.#state as HalfOpenState);
      }
      case 'half-open':
        return this.#admitProbe(state);
      default:
        this.#rejections++;
        breakerTelemetry.call(this.name, 'not_permitted', 0, state.kind);
        return REFUSED;
    }
  }

  /**
   * Records a successful call.
   *
   * @param permit - What {@link CircuitBreaker.acquire} returned.
   * @param durationMs - How long the call took (decides "slow").
   */
  recordSuccess(permit: number, durationMs: number): void {
    if (permit !== this.#generation) return;
    this.#successes++;
    breakerTelemetry.call(this.name, 'successful', durationMs, this.#state.kind);
    const slow = durationMs >= this.#options.slowCallDurationMs;
    const state = this.#state;
    if (state.kind === 'closed') {
      const reason = this.#rules.record(false, slow);
      if (reason !== undefined) this.#transition('open', reason, this.#options.clock.now());
    } else if (state.kind === 'half-open') {
      state.probes.succeeded++;
      if (slow) state.probes.slow++;
      this.#decideProbes(state);
    }
  }

  /**
   * Records a failed call. Errors for which `isFailure` returns `false` are ignored.
   *
   * @param permit - What {@link CircuitBreaker.acquire} returned.
   * @param durationMs - How long the call took.
   * @param error - What it threw.
   */
  recordFailure(permit: number, durationMs: number, error?: unknown): void {
    if (permit !== this.#generation) return;
    const { isFailure } = this.#options;
    if (isFailure !== undefined && !isFailure(error)) {
      this.recordIgnored(permit);
      return;
    }
    this.#failures++;
    breakerTelemetry.call(this.name, 'failed', durationMs, this.#state.kind);
    const slow = durationMs >= this.#options.slowCallDurationMs;
    const state = this.#state;
    if (state.kind === 'closed') {
      const reason = this.#rules.record(true, slow);
      if (reason !== undefined) this.#transition('open', reason, this.#options.clock.now());
    } else if (state.kind === 'half-open') {
      state.probes.failed++;
      if (slow) state.probes.slow++;
      if (this.#options.failureRateThreshold === undefined) {
        this.#transition('open', 'probe-failed', this.#options.clock.now());
      } else {
        this.#decideProbes(state);
      }
    }
  }

  /**
   * Records that a permitted call ended without an outcome that says anything about the
   * service (the caller gave up, say): counts stay as they are and a probe slot is freed.
   *
   * @param permit - What {@link CircuitBreaker.acquire} returned.
   */
  recordIgnored(permit: number): void {
    if (permit !== this.#generation) return;
    this.#ignored++;
    breakerTelemetry.call(this.name, 'ignored', 0, this.#state.kind);
    if (this.#state.kind === 'half-open') this.#state.probes.admitted--;
  }

  /**
   * The error for a refused call, describing the current state.
   *
   * @returns A {@link CircuitOpenError}.
   */
  refusal(): CircuitOpenError {
    const state = this.#state;
    if (state.kind === 'open') return new CircuitOpenError(this.name, 'open', state.nextAttemptAt);
    return new CircuitOpenError(this.name, state.kind === 'isolated' ? 'isolated' : 'half-open', undefined);
  }

  /**
   * Runs `fn` under the breaker.
   *
   * @param fn - The protected call.
   * @returns What `fn` returns.
   * @throws CircuitOpenError when the breaker refuses; otherwise whatever `fn` throws.
   * @example
   * ```ts
   * import { CircuitBreaker } from '@hardening/circuit-breaker';
   * const breaker = new CircuitBreaker({ name: 'calendar' });
   * const events = await breaker.execute(async () => ['standup']);
   * ```
   */
  async execute<T>(fn: () => T | PromiseLike<T>): Promise<T> {
    const permit = this.acquire();
    if (permit < 0) throw this.refusal();
    const { clock } = this.#options;
    const started = clock.now();
    try {
      const value = await fn();
      this.recordSuccess(permit, clock.now() - started);
      return value;
    } catch (error) {
      this.recordFailure(permit, clock.now() - started, error);
      throw error;
    }
  }

  /**
   * Opens the breaker by hand for one cooldown (then it probes as usual).
   *
   * @param until - When to allow the next probe (epoch ms).
   * @default until now + cooldownMs
   */
  open(until?: number): void {
    this.#transition('open', 'manual', this.#options.clock.now(), until);
  }

  /** Closes the breaker by hand (also ends isolation). Counts start afresh. */
  close(): void {
    this.#transition('closed', 'manual', this.#options.clock.now());
  }

  /** Closes the breaker and clears every count, including lifetime totals. */
  reset(): void {
    this.#transition('closed', 'manual', this.#options.clock.now());
    this.#successes = 0;
    this.#failures = 0;
    this.#ignored = 0;
    this.#rejections = 0;
  }

  /**
   * Holds the breaker open until {@link CircuitBreaker.close} or {@link CircuitBreaker.reset}
   * (or the returned function) is called. For maintenance windows and kill switches.
   *
   * @returns A function that closes the breaker again.
   * @example
   * ```ts
   * import { CircuitBreaker } from '@hardening/circuit-breaker';
   * const breaker = new CircuitBreaker({ name: 'stripe' });
   * const release = breaker.isolate();
   * // ... maintenance ...
   * release();
   * ```
   */
  isolate(): () => void {
    this.#transition('isolated', 'manual', this.#options.clock.now());
    const generation = this.#generation;
    return () => {
      if (this.#generation === generation) this.close();
    };
  }

  /**
   * Listens to state changes. A listener that throws is reported with
   * `process.emitWarning` and does not disturb the breaker.
   *
   * @param listener - Called after each change.
   * @returns A function that removes the listener.
   */
  onStateChange(listener: StateChangeListener): () => void {
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  /**
   * The breaker's state and counts.
   *
   * @returns A {@link CircuitBreakerSnapshot}.
   */
  snapshot(): CircuitBreakerSnapshot {
    let window: CircuitBreakerSnapshot['window'];
    if (this.#rules.window !== undefined) {
      const totals = this.#rules.window.totals(this.#options.clock.now());
      const rate = (n: number) => (totals.calls === 0 ? 0 : (n * 100) / totals.calls);
      window = { ...totals, failureRate: rate(totals.failures), slowCallRate: rate(totals.slowCalls) };
    }
    const state = this.#state;
    const probes = state.kind === 'half-open' ? state.probes : noProbes;
    return {
      name: this.name,
      state: state.kind,
      consecutiveFailures: this.#rules.consecutive.count,
      window,
      openedAt: state.kind === 'closed' ? undefined : state.openedAt,
      nextAttemptAt: state.kind === 'open' ? state.nextAttemptAt : undefined,
      probes: { admitted: probes.admitted, succeeded: probes.succeeded, failed: probes.failed },
      totals: { successes: this.#successes, failures: this.#failures, ignored: this.#ignored, rejections: this.#rejections },
      stateChangedAt: this.#stateChangedAt,
    };
  }

  /**
   * The state to persist. A half-open breaker saves as open with its probe due now.
   *
   * @returns Plain JSON.
   */
  save(): SavedBreakerState {
    const state = this.#state;
    const base = { name: this.name, consecutiveFailures: this.#rules.consecutive.count };
    switch (state.kind) {
      case 'closed':
        return { ...base, state: 'closed' };
      case 'open':
        return { ...base, state: 'open', openedAt: state.openedAt, nextAttemptAt: state.nextAttemptAt };
      case 'half-open':
        return { ...base, state: 'open', openedAt: state.openedAt, nextAttemptAt: this.#options.clock.now() };
      default:
        return { ...base, state: 'isolated', openedAt: state.openedAt };
    }
  }

  /**
   * Restores what {@link CircuitBreaker.save} returned.
   *
   * @param saved - A saved state.
   * @throws TypeError when `saved` is not a saved breaker state.
   */
  restore(saved: SavedBreakerState): void {
    const states: CircuitState[] = ['closed', 'open', 'half-open', 'isolated'];
    if (typeof saved !== 'object' || saved === null || !states.includes(saved.state)) {
      throw new TypeError('Expected a saved breaker state with `state` of closed, open, half-open or isolated.');
    }
    const failures = Number.isInteger(saved.consecutiveFailures) && saved.consecutiveFailures > 0 ? saved.consecutiveFailures : 0;
    const now = this.#options.clock.now();
    const to = saved.state === 'half-open' ? 'open' : saved.state;
    this.#transition(to, 'restored', now, to === 'open' ? (saved.nextAttemptAt ?? now) : undefined);
    const state = this.#state;
    if (saved.openedAt !== undefined && (state.kind === 'open' || state.kind === 'isolated')) this.#state = { ...state, openedAt: saved.openedAt };
    if (to === 'closed') this.#rules.consecutive.count = Math.min(failures, this.#options.failureThreshold - 1);
  }

  #startProbing(): boolean {
    if (this.#state.kind !== 'open') return this.#state.kind === 'half-open';
    this.#transition('half-open', 'cooldown-elapsed', this.#options.clock.now());
    return true;
  }

  #applyRemoteState(to: 'open' | 'closed', nextAttemptAt?: number): void {
    const state = this.#state;
    if (to === 'closed') {
      if (state.kind === 'open' || state.kind === 'half-open') this.#transition('closed', 'remote', this.#options.clock.now());
      return;
    }
    if (state.kind === 'isolated') return;
    if (state.kind === 'open' && state.nextAttemptAt === nextAttemptAt) return;
    this.#transition('open', 'remote', this.#options.clock.now(), nextAttemptAt);
  }

  #admitProbe(state: HalfOpenState): number {
    if (state.probes.admitted < this.#options.halfOpenMaxCalls) {
      state.probes.admitted++;
      return this.#generation;
    }
    const now = this.#options.clock.now();
    if (now - this.#stateChangedAt >= this.#options.maxHalfOpenWaitMs) this.#transition('open', 'probe-timed-out', now);
    this.#rejections++;
    breakerTelemetry.call(this.name, 'not_permitted', 0, this.#state.kind);
    return REFUSED;
  }

  #decideProbes(state: HalfOpenState): void {
    const { probes } = state;
    const done = probes.succeeded + probes.failed;
    if (done < this.#options.halfOpenMaxCalls) return;
    const { failureRateThreshold, slowCallRateThreshold } = this.#options;
    const now = this.#options.clock.now();
    if (failureRateThreshold !== undefined && probes.failed * 100 >= failureRateThreshold * done) {
      this.#transition('open', 'probe-failed', now);
    } else if (slowCallRateThreshold !== undefined && probes.slow * 100 >= slowCallRateThreshold * done) {
      this.#transition('open', 'slow-call-rate', now);
    } else {
      this.#transition('closed', 'probe-succeeded', now);
    }
  }

  #transition(to: CircuitState, reason: StateChangeReason, now: number, nextAttemptAt?: number): void {
    const from = this.#state;
    const openedBefore = from.kind === 'closed' ? undefined : from.openedAt;
    switch (to) {
      case 'closed':
        this.#state = closedState;
        break;
      case 'open':
        // Re-opening an open breaker (by hand, or from another process) keeps when it opened.
        this.#state = {
          kind: 'open',
          openedAt: from.kind === 'open' ? from.openedAt : now,
          nextAttemptAt: nextAttemptAt ?? now + this.#options.cooldownMs,
        };
        break;
      case 'half-open':
        this.#state = { kind: 'half-open', openedAt: openedBefore ?? now, probes: { admitted: 0, succeeded: 0, failed: 0, slow: 0 } };
        break;
      default:
        this.#state = { kind: 'isolated', openedAt: openedBefore ?? now };
    }
    this.#generation++;
    this.#stateChangedAt = now;
    this.#rules.reset();
    const change: StateChange = {
      name: this.name,
      from: from.kind,
      to,
      reason,
      at: now,
      ...(this.#state.kind === 'open' ? { nextAttemptAt: this.#state.nextAttemptAt } : {}),
    };
    breakerTelemetry.transition(change);
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        process.emitWarning(`Circuit breaker "${this.name}" state listener threw: ${String(error)}`, 'HardeningWarning');
      }
    }
  }
}
