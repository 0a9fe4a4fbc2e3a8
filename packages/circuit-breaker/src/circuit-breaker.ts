import { CircuitOpenError } from './circuit-open-error.js';
import type { CircuitState, StateChange, StateChangeReason } from './circuit-state.js';
import type { CircuitBreakerOptions, ResolvedBreakerOptions } from './options.js';
import { resolveBreakerOptions } from './options.js';
import type { SlidingWindow, WindowTotals } from './sliding-window.js';
import { createSlidingWindow } from './sliding-window.js';

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
 * Decides, when an open breaker's cooldown has elapsed, whether this process may start
 * probing now. Used by the Redis shared state so only one process probes; return `false`
 * to stay open and call {@link CircuitBreaker.startProbing} later.
 */
export type ProbeGate = (breaker: CircuitBreaker) => boolean;

/** A state-change listener. */
export type StateChangeListener = (change: StateChange) => void;

/** Permit value meaning "refused". */
const REFUSED = -1;

/**
 * A circuit breaker: closed, open, half-open, plus a manual isolated state.
 *
 * It opens on `failureThreshold` consecutive failures, or on a failure rate or slow-call
 * rate over a count- or time-based sliding window once `minimumCalls` calls are in it.
 * After `cooldownMs` it lets `halfOpenMaxCalls` probes through and closes or re-opens on
 * their outcome. It holds no timers and no per-call state, so one call's timeout or abort
 * can never cancel another call on the same breaker.
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
  /** The breaker's name. */
  readonly name: string;
  private raw: CircuitBreakerOptions;
  private resolved: ResolvedBreakerOptions;

  private currentState: CircuitState = 'closed';
  /** Bumped on every transition; a permit from an older generation no longer counts. */
  private generation = 0;
  private consecutiveFailures = 0;
  private window: SlidingWindow | undefined;
  private openedAt: number | undefined;
  private nextAttemptAt: number | undefined;
  private stateChangedAt: number;
  private probesAdmitted = 0;
  private probesSucceeded = 0;
  private probesFailed = 0;
  private probesSlow = 0;
  private successes = 0;
  private failures = 0;
  private ignored = 0;
  private rejections = 0;
  private listeners: StateChangeListener[] = [];
  private probeGate: ProbeGate | undefined;

  /**
   * @param options - See {@link CircuitBreakerOptions}.
   * @throws TypeError when an option is out of range.
   */
  constructor(options: CircuitBreakerOptions = {}) {
    this.raw = { ...options };
    this.resolved = resolveBreakerOptions(this.raw);
    this.name = this.resolved.name;
    this.window = this.windowFor(this.resolved, undefined);
    this.stateChangedAt = this.resolved.clock.now();
  }

  /** Options with defaults applied, as last set by the constructor or {@link CircuitBreaker.configure}. */
  get options(): ResolvedBreakerOptions {
    return this.resolved;
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
    const raw: CircuitBreakerOptions = { ...this.raw, ...options, name: this.name };
    const resolved = resolveBreakerOptions(raw);
    this.window = this.windowFor(resolved, this.resolved);
    this.raw = raw;
    this.resolved = resolved;
  }

  /** The current state. Reading it never changes it (an elapsed cooldown shows as `open`). */
  get state(): CircuitState {
    return this.currentState;
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
    switch (this.currentState) {
      case 'closed':
        return this.generation;
      case 'open': {
        const now = this.options.clock.now();
        if (now < this.nextAttemptAt! || (this.probeGate !== undefined && !this.probeGate(this))) {
          this.rejections++;
          return REFUSED;
        }
        this.transition('half-open', 'cooldown-elapsed', now);
        return this.admitProbe();
      }
      case 'half-open':
        return this.admitProbe();
      default:
        this.rejections++;
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
    if (permit !== this.generation) return;
    this.successes++;
    const slow = durationMs >= this.options.slowCallDurationMs;
    if (this.currentState === 'closed') {
      this.consecutiveFailures = 0;
      if (this.window !== undefined) {
        const now = this.options.clock.now();
        this.window.record(false, slow, now);
        if (slow) this.evaluateWindow(now);
      }
    } else if (this.currentState === 'half-open') {
      this.probesSucceeded++;
      if (slow) this.probesSlow++;
      this.decideProbes();
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
    if (permit !== this.generation) return;
    if (this.options.isFailure !== undefined && !this.options.isFailure(error)) {
      this.recordIgnored(permit);
      return;
    }
    this.failures++;
    const slow = durationMs >= this.options.slowCallDurationMs;
    if (this.currentState === 'closed') {
      this.consecutiveFailures++;
      const now = this.options.clock.now();
      if (this.consecutiveFailures >= this.options.failureThreshold) {
        this.transition('open', 'consecutive-failures', now);
        return;
      }
      if (this.window !== undefined) {
        this.window.record(true, slow, now);
        this.evaluateWindow(now);
      }
    } else if (this.currentState === 'half-open') {
      this.probesFailed++;
      if (slow) this.probesSlow++;
      if (this.options.failureRateThreshold === undefined) {
        this.transition('open', 'probe-failed', this.options.clock.now());
      } else {
        this.decideProbes();
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
    if (permit !== this.generation) return;
    this.ignored++;
    if (this.currentState === 'half-open') this.probesAdmitted--;
  }

  /**
   * The error for a refused call, describing the current state.
   *
   * @returns A {@link CircuitOpenError}.
   */
  refusal(): CircuitOpenError {
    const state = this.currentState === 'closed' ? 'half-open' : this.currentState;
    return new CircuitOpenError(this.name, state, state === 'open' ? this.nextAttemptAt : undefined);
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
    const started = this.options.clock.now();
    try {
      const value = await fn();
      this.recordSuccess(permit, this.options.clock.now() - started);
      return value;
    } catch (error) {
      this.recordFailure(permit, this.options.clock.now() - started, error);
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
    const now = this.options.clock.now();
    this.transition('open', 'manual', now, until);
  }

  /** Closes the breaker by hand (also ends isolation). Counts start afresh. */
  close(): void {
    this.transition('closed', 'manual', this.options.clock.now());
  }

  /** Closes the breaker and clears every count, including lifetime totals. */
  reset(): void {
    this.transition('closed', 'manual', this.options.clock.now());
    this.successes = 0;
    this.failures = 0;
    this.ignored = 0;
    this.rejections = 0;
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
    this.transition('isolated', 'manual', this.options.clock.now());
    const generation = this.generation;
    return () => {
      if (this.generation === generation) this.close();
    };
  }

  /**
   * Moves an open breaker whose cooldown has elapsed to half-open, letting probes through.
   * Used by a {@link ProbeGate} that deferred probing.
   *
   * @returns Whether the breaker is now half-open.
   */
  startProbing(): boolean {
    if (this.currentState !== 'open') return this.currentState === 'half-open';
    this.transition('half-open', 'cooldown-elapsed', this.options.clock.now());
    return true;
  }

  /**
   * Applies a state decided elsewhere (another process, through shared state).
   * Listeners see reason `remote`.
   *
   * @param state - `open` (with when to probe) or `closed`.
   * @param nextAttemptAt - For `open`: when to allow the next probe (epoch ms).
   */
  applyRemoteState(state: 'open' | 'closed', nextAttemptAt?: number): void {
    if (state === 'closed') {
      if (this.currentState === 'open' || this.currentState === 'half-open') {
        this.transition('closed', 'remote', this.options.clock.now());
      }
      return;
    }
    if (this.currentState === 'isolated') return;
    if (this.currentState === 'open' && this.nextAttemptAt === nextAttemptAt) return;
    this.transition('open', 'remote', this.options.clock.now(), nextAttemptAt);
  }

  /**
   * Installs (or removes, with `undefined`) the gate consulted when an open breaker's
   * cooldown has elapsed. See {@link ProbeGate}.
   *
   * @param gate - The gate.
   */
  setProbeGate(gate: ProbeGate | undefined): void {
    this.probeGate = gate;
  }

  /**
   * Listens to state changes. A listener that throws is reported with
   * `process.emitWarning` and does not disturb the breaker.
   *
   * @param listener - Called after each change.
   * @returns A function that removes the listener.
   */
  onStateChange(listener: StateChangeListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /**
   * The breaker's state and counts.
   *
   * @returns A {@link CircuitBreakerSnapshot}.
   */
  snapshot(): CircuitBreakerSnapshot {
    let window: CircuitBreakerSnapshot['window'];
    if (this.window !== undefined) {
      const totals = this.window.totals(this.options.clock.now());
      const rate = (n: number) => (totals.calls === 0 ? 0 : (n * 100) / totals.calls);
      window = { ...totals, failureRate: rate(totals.failures), slowCallRate: rate(totals.slowCalls) };
    }
    return {
      name: this.name,
      state: this.currentState,
      consecutiveFailures: this.consecutiveFailures,
      window,
      openedAt: this.openedAt,
      nextAttemptAt: this.currentState === 'open' ? this.nextAttemptAt : undefined,
      probes: { admitted: this.probesAdmitted, succeeded: this.probesSucceeded, failed: this.probesFailed },
      totals: { successes: this.successes, failures: this.failures, ignored: this.ignored, rejections: this.rejections },
      stateChangedAt: this.stateChangedAt,
    };
  }

  /**
   * The state to persist. A half-open breaker saves as open with its probe due now.
   *
   * @returns Plain JSON.
   */
  save(): SavedBreakerState {
    const state = this.currentState === 'half-open' ? 'open' : this.currentState;
    return {
      name: this.name,
      state,
      consecutiveFailures: this.consecutiveFailures,
      ...(this.openedAt === undefined ? {} : { openedAt: this.openedAt }),
      ...(state === 'open' ? { nextAttemptAt: this.currentState === 'open' ? this.nextAttemptAt! : this.options.clock.now() } : {}),
    };
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
    const now = this.options.clock.now();
    const to = saved.state === 'half-open' ? 'open' : saved.state;
    this.transition(to, 'restored', now, to === 'open' ? (saved.nextAttemptAt ?? now) : undefined);
    if (saved.openedAt !== undefined && to !== 'closed') this.openedAt = saved.openedAt;
    if (to === 'closed') this.consecutiveFailures = Math.min(failures, this.options.failureThreshold - 1);
  }

  /** The window `next` needs: the current one when it still fits, a new one, or none. */
  private windowFor(next: ResolvedBreakerOptions, previous: ResolvedBreakerOptions | undefined): SlidingWindow | undefined {
    if (next.failureRateThreshold === undefined && next.slowCallRateThreshold === undefined) return undefined;
    const same = previous !== undefined && JSON.stringify(previous.slidingWindow) === JSON.stringify(next.slidingWindow);
    return same && this.window !== undefined ? this.window : createSlidingWindow(next.slidingWindow);
  }

  private admitProbe(): number {
    if (this.probesAdmitted < this.options.halfOpenMaxCalls) {
      this.probesAdmitted++;
      return this.generation;
    }
    const now = this.options.clock.now();
    if (now - this.stateChangedAt >= this.options.maxHalfOpenWaitMs) {
      this.transition('open', 'probe-timed-out', now);
    }
    this.rejections++;
    return REFUSED;
  }

  private decideProbes(): void {
    const done = this.probesSucceeded + this.probesFailed;
    if (done < this.options.halfOpenMaxCalls) return;
    const { failureRateThreshold, slowCallRateThreshold } = this.options;
    const now = this.options.clock.now();
    if (failureRateThreshold !== undefined && this.probesFailed * 100 >= failureRateThreshold * done) {
      this.transition('open', 'probe-failed', now);
    } else if (slowCallRateThreshold !== undefined && this.probesSlow * 100 >= slowCallRateThreshold * done) {
      this.transition('open', 'slow-call-rate', now);
    } else {
      this.transition('closed', 'probe-succeeded', now);
    }
  }

  private evaluateWindow(now: number): void {
    const totals = this.window!.totals(now);
    if (totals.calls < this.options.minimumCalls) return;
    const { failureRateThreshold, slowCallRateThreshold } = this.options;
    if (failureRateThreshold !== undefined && totals.failures * 100 >= failureRateThreshold * totals.calls) {
      this.transition('open', 'failure-rate', now);
    } else if (slowCallRateThreshold !== undefined && totals.slowCalls * 100 >= slowCallRateThreshold * totals.calls) {
      this.transition('open', 'slow-call-rate', now);
    }
  }

  private transition(to: CircuitState, reason: StateChangeReason, now: number, nextAttemptAt?: number): void {
    const from = this.currentState;
    this.currentState = to;
    this.generation++;
    this.stateChangedAt = now;
    this.probesAdmitted = 0;
    this.probesSucceeded = 0;
    this.probesFailed = 0;
    this.probesSlow = 0;
    this.consecutiveFailures = 0;
    this.window?.reset();
    if (to === 'open') {
      if (from !== 'open' || this.openedAt === undefined) this.openedAt = now;
      this.nextAttemptAt = nextAttemptAt ?? now + this.options.cooldownMs;
    } else if (to === 'closed') {
      this.openedAt = undefined;
      this.nextAttemptAt = undefined;
    } else if (to === 'isolated') {
      this.openedAt ??= now;
      this.nextAttemptAt = undefined;
    }
    const change: StateChange = {
      name: this.name,
      from,
      to,
      reason,
      at: now,
      ...(to === 'open' ? { nextAttemptAt: this.nextAttemptAt } : {}),
    };
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        process.emitWarning(`Circuit breaker "${this.name}" state listener threw: ${String(error)}`, 'HardeningWarning');
      }
    }
  }
}
