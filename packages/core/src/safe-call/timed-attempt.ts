import { AbortedError } from '../errors/aborted-error.js';
import { TimeoutError } from '../errors/timeout-error.js';
import type { DeadlineEntry, DeadlineList, MonotonicClock } from './deadlines.js';
import { subscribeToAbort, unsubscribeFromAbort } from './caller-signal.js';
import { LazySignalState, lazySignal } from './lazy-signal.js';
import { canSeeSignal } from './work-signal.js';

/**
 * The work `safeCall` protects. It receives its attempt's own `AbortSignal`, which aborts
 * only when that attempt times out, the call's overall deadline passes, or the caller's
 * `signal` aborts; never because the attempt ended, and never because of another call.
 */
export type Work<T> = (signal: AbortSignal) => T | PromiseLike<T>;

/** How an attempt is timed. */
export interface AttemptTiming {
  /** The shared list for the attempt's timeout, or undefined when it has none (or `cutMs` applies). */
  readonly list: DeadlineList | undefined;
  /** A timeout shorter than the list's (the call's overall deadline is closer), or undefined. */
  readonly cutMs: number | undefined;
}

/**
 * One attempt of the work under a deadline. It settles once, through exactly one of the
 * subclass's handlers: `onValue`, `onError` (the work failed or timed out) or `onAbort`
 * (the caller's signal aborted).
 *
 * Signal policy: the attempt gets an `AbortController` of its own. Its signal aborts when
 * the attempt's deadline passes (reason: a `TimeoutError`) or the caller's signal aborts
 * (reason: the caller's reason), and for nothing else: a returned attempt's signal stays
 * un-aborted for good, so a `fetch` response body can still be read after `safeCall`
 * returned. Creating a signal costs microseconds on Node 20, so none is made for work that
 * cannot see it (an arrow function declaring no parameter, see work-signal.ts), and the
 * others get a lazy one (lazy-signal.ts). The caller's signal is linked by hand (this
 * object is the subscriber, through caller-signal.ts so that any number of calls sharing one
 * caller signal add one listener to it): `AbortSignal.any` is slow on Node 20 and kept its
 * inputs alive.
 */
export abstract class TimedAttempt<T> implements DeadlineEntry {
  deadline = Infinity;
  prev: DeadlineEntry | undefined = undefined;
  next: DeadlineEntry | undefined = undefined;
  list: DeadlineList | undefined = undefined;
  slow = false;
  /** Settles the attempt's promise; undefined once settled. */
  protected resolve: ((value: T | PromiseLike<T>) => void) | undefined = undefined;
  protected start = 0;
  private signalState: LazySignalState | undefined = undefined;
  private callerSignal: AbortSignal | undefined = undefined;
  private cutTimer: NodeJS.Timeout | undefined = undefined;
  private timeoutUsedMs = 0;

  constructor(
    readonly name: string,
    protected readonly clock: MonotonicClock,
  ) {}

  /** Whether a success must be timed exactly (otherwise an unmarked attempt reports 0: "under slowMs"). */
  protected abstract get exact(): boolean;
  protected abstract onValue(value: T, durationMs: number): void;
  protected abstract onError(error: unknown, durationMs: number, timedOut: boolean): void;
  protected abstract onAbort(error: AbortedError): void;

  /**
   * Starts the work.
   *
   * @param work - The work.
   * @param timing - How the attempt is timed.
   * @param callerSignal - The caller's signal, if any.
   * @param now - Monotonic now, ms.
   */
  protected begin(work: Work<T>, timing: AttemptTiming, callerSignal: AbortSignal | undefined, now: number): void {
    this.start = now;
    if (callerSignal !== undefined) {
      if (callerSignal.aborted) {
        this.onAbort(new AbortedError(this.name, callerSignal.reason));
        return;
      }
      this.callerSignal = callerSignal;
      subscribeToAbort(callerSignal, this);
    }
    if (timing.cutMs !== undefined) {
      this.timeoutUsedMs = timing.cutMs;
      this.deadline = now + timing.cutMs;
      this.cutTimer = setTimeout(() => {
        this.cutTimer = undefined;
        this.expire();
      }, timing.cutMs);
    } else if (timing.list !== undefined) {
      this.timeoutUsedMs = timing.list.timeoutMs;
      timing.list.add(this, now);
    }
    let signal: AbortSignal | undefined;
    if (canSeeSignal(work)) {
      this.signalState = new LazySignalState();
      signal = lazySignal(this.signalState);
    }
    let outcome: T | PromiseLike<T>;
    try {
      outcome = work(signal as AbortSignal);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (outcome !== null && typeof outcome === 'object' && typeof (outcome as PromiseLike<T>).then === 'function') {
      (outcome as PromiseLike<T>).then(
        (value) => this.succeed(value),
        (error: unknown) => this.fail(error),
      );
    } else {
      this.succeed(outcome as T);
    }
  }

  /** Called by the deadline list (or the cut timer) once the deadline has passed. */
  expire(): void {
    if (this.resolve === undefined) return;
    this.finish();
    const error = new TimeoutError(this.name, this.timeoutUsedMs);
    this.signalState?.abort(error);
    this.onError(error, this.clock.now() - this.start, true);
  }

  /** The caller's signal aborted (this object is its subscriber). */
  handleEvent(): void {
    if (this.resolve === undefined) return;
    const reason: unknown = this.callerSignal!.reason;
    this.finish();
    this.signalState?.abort(reason);
    this.onAbort(new AbortedError(this.name, reason));
  }

  private succeed(value: T): void {
    if (this.resolve === undefined) return;
    // Only an attempt on a deadline list can be known fast without reading the clock.
    const timed = this.list === undefined || this.slow || this.exact;
    this.finish();
    this.onValue(value, timed ? this.clock.now() - this.start : 0);
  }

  private fail(error: unknown): void {
    if (this.resolve === undefined) return;
    this.finish();
    this.onError(error, this.clock.now() - this.start, false);
  }

  /** Stops the deadline and unlinks the caller's signal; the attempt's signal is left alone. */
  private finish(): void {
    if (this.list !== undefined) this.list.remove(this);
    if (this.cutTimer !== undefined) {
      clearTimeout(this.cutTimer);
      this.cutTimer = undefined;
    }
    if (this.callerSignal !== undefined) {
      unsubscribeFromAbort(this.callerSignal, this);
      this.callerSignal = undefined;
    }
  }

  /** Settles the attempt's promise (once). */
  protected settle(value: T | PromiseLike<T>): void {
    const resolve = this.resolve!;
    this.resolve = undefined;
    resolve(value);
  }
}
