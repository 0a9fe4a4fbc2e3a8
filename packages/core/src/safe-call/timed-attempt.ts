import { AbortedError } from '../errors/aborted-error.js';
import { TimeoutError } from '../errors/timeout-error.js';
import type { Cohort, DeadlineEntry, DeadlineList } from './deadlines.js';
import { perf } from './deadlines.js';

/** The work `safeCall` protects. It receives a signal that aborts on timeout or caller abort. */
export type Work<T> = (signal: AbortSignal) => T | PromiseLike<T>;

/** A signal that never aborts, for work without a timeout or caller signal. */
const neverAborted = new AbortController().signal;

/** The link to a caller's own signal: only calls that pass one pay for it. */
class CallerLink {
  readonly controller = new AbortController();
  constructor(
    readonly signal: AbortSignal,
    readonly onAbort: () => void,
  ) {
    signal.addEventListener('abort', onAbort, { once: true });
  }

  detach(): void {
    this.signal.removeEventListener('abort', this.onAbort);
  }
}

/**
 * One attempt of the work under a deadline. It settles once, through exactly one of the
 * subclass's handlers: `onValue`, `onError` (the work failed or timed out) or `onAbort`
 * (the caller's signal aborted).
 *
 * Without a caller signal the work gets its cohort's shared signal (see deadlines.ts);
 * with one, a controller of its own linked to the caller's signal. Durations are measured
 * only when someone needs them (`exact`) or the deadline list marked the call slow;
 * otherwise `onValue` gets 0, meaning "under the slow-call threshold".
 */
export abstract class TimedAttempt<T> implements DeadlineEntry {
  cohort: Cohort | undefined = undefined;
  prev: DeadlineEntry | undefined = undefined;
  next: DeadlineEntry | undefined = undefined;
  slow = false;
  /** Settles the attempt's promise; undefined once settled. */
  protected resolve: ((value: T | PromiseLike<T>) => void) | undefined = undefined;
  protected start = 0;
  private link: CallerLink | undefined = undefined;

  constructor(readonly name: string) {}

  /** The attempt's timeout (for the TimeoutError). */
  protected abstract get timeoutMs(): number;
  /** Whether a success must be timed exactly. */
  protected abstract get exact(): boolean;

  protected abstract onValue(value: T, durationMs: number): void;
  protected abstract onError(error: unknown, durationMs: number, timedOut: boolean): void;
  protected abstract onAbort(error: AbortedError): void;

  /**
   * Starts the work.
   *
   * @param work - The work.
   * @param list - The deadline list for the timeout, or undefined for none.
   * @param callerSignal - The caller's signal, if any.
   * @param now - Monotonic now, ms.
   */
  protected begin(work: Work<T>, list: DeadlineList | undefined, callerSignal: AbortSignal | undefined, now: number): void {
    this.start = now;
    let signal: AbortSignal | undefined;
    if (callerSignal !== undefined) {
      if (callerSignal.aborted) {
        this.onAbort(new AbortedError(this.name, callerSignal.reason));
        return;
      }
      this.link = new CallerLink(callerSignal, () => this.abortByCaller());
      signal = this.link.controller.signal;
    }
    if (list !== undefined) {
      const cohort = list.add(this, now);
      // Only work that declares the parameter can see the signal: skip creating it otherwise.
      if (signal === undefined && work.length > 0) signal = cohort.signal();
    } else if (signal === undefined && work.length > 0) {
      signal = neverAborted;
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

  /** Called by the deadline list when the deadline passes. */
  expire(now: number): void {
    if (this.resolve === undefined) return;
    const cohort = this.cohort!;
    this.cohort = undefined; // the list unlinked it already
    const error = new TimeoutError(this.name, this.timeoutMs);
    if (this.link !== undefined) {
      this.link.detach();
      this.link.controller.abort(error);
    } else {
      cohort.abort(error);
    }
    this.onError(error, now - this.start, true);
  }

  private abortByCaller(): void {
    if (this.resolve === undefined) return;
    const reason = this.link!.signal.reason;
    this.finish();
    this.link!.controller.abort(reason);
    this.onAbort(new AbortedError(this.name, reason));
  }

  private succeed(value: T): void {
    if (this.resolve === undefined) return;
    this.finish();
    this.onValue(value, this.exact || this.slow ? perf.now() - this.start : 0);
  }

  private fail(error: unknown): void {
    if (this.resolve === undefined) return;
    this.finish();
    this.onError(error, perf.now() - this.start, false);
  }

  private finish(): void {
    if (this.cohort !== undefined) {
      this.cohort.list.remove(this);
      this.cohort = undefined;
    }
    this.link?.detach();
  }

  /** Settles the attempt's promise (once). */
  protected settle(value: T | PromiseLike<T>): void {
    const resolve = this.resolve!;
    this.resolve = undefined;
    resolve(value);
  }
}
