// Shared deadline timers with shared abort signals, written by hand because no timer
// library does this. Figures from bench/core.bench.ts on this machine kind (Node 20): a
// `setTimeout` + `clearTimeout` pair costs about 400 ns, an `AbortController` with its
// signal about 2.5-3 us, a clock read about 45 ns, against about 50 ns for a bare
// `await fn()`.
//
// - One timer per (operation, timeout) instead of one per call. Calls sharing a timeout
//   expire in the order they started, so a doubly linked list, appended at the tail and
//   checked at the head, holds them in deadline order with O(1) insert and removal. The
//   timer fires at the head's deadline and re-arms for the next head. It is unref'd: the
//   call's own I/O keeps the process alive, an idle timer does not.
// - The same list and timer find slow calls: a cursor walks the list in start order and
//   marks each call still running `slowMs` after it started. A call that finishes
//   unmarked is known to be fast without reading the clock again.
// - One AbortController per 1 ms "cohort" of calls instead of one per call. Calls that
//   start in the same millisecond share a deadline (the end of that millisecond plus the
//   timeout: never early, at most 1 ms late) and therefore a signal: when the deadline
//   passes, every one of them still running has timed out, and the shared signal aborts.
//   A cohort whose calls all finished in time is dropped without ever aborting. The
//   controller is created lazily, only when a call that can receive the signal joins.

import { setMaxListeners } from 'node:events';

/** `performance`, looked up once: the global is a lazy getter on Node 20. */
export const perf: typeof performance = performance;

/** Calls that started in the same millisecond and share a deadline and a signal. */
export class Cohort {
  controller: AbortController | undefined = undefined;
  constructor(
    readonly list: DeadlineList,
    readonly windowEnd: number,
    readonly deadline: number,
  ) {}

  /** The cohort's signal, created on first request. */
  signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      // Many calls of one cohort may listen at once (fetch adds an abort listener).
      setMaxListeners(0, this.controller.signal);
    }
    return this.controller.signal;
  }

  /** Aborts the cohort's signal (once) with `reason`. */
  abort(reason: unknown): void {
    if (this.controller !== undefined && !this.controller.signal.aborted) this.controller.abort(reason);
  }
}

/** A call with a deadline: it can be marked slow and can expire. */
export interface DeadlineEntry {
  cohort: Cohort | undefined;
  prev: DeadlineEntry | undefined;
  next: DeadlineEntry | undefined;
  slow: boolean;
  expire(now: number): void;
}

/** In-flight calls of one operation sharing one timeout, in start (= deadline) order. */
export class DeadlineList {
  private head: DeadlineEntry | undefined;
  private tail: DeadlineEntry | undefined;
  /** First entry not yet checked for slowness. */
  private cursor: DeadlineEntry | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private cohort: Cohort | undefined;
  /** Mark calls slow after this long; Infinity when they time out first. */
  readonly slowMs: number;

  constructor(
    readonly timeoutMs: number,
    slowMs: number,
  ) {
    this.slowMs = slowMs < timeoutMs ? slowMs : Infinity;
  }

  /** Starts the clock on `entry` at `now` (monotonic ms) and returns its cohort. */
  add(entry: DeadlineEntry, now: number): Cohort {
    let cohort = this.cohort;
    if (cohort === undefined || now >= cohort.windowEnd) {
      const windowEnd = Math.floor(now) + 1;
      cohort = this.cohort = new Cohort(this, windowEnd, windowEnd + this.timeoutMs);
    }
    entry.cohort = cohort;
    entry.next = undefined;
    entry.prev = this.tail;
    if (this.tail === undefined) this.head = entry;
    else this.tail.next = entry;
    this.tail = entry;
    if (this.cursor === undefined && this.slowMs !== Infinity) {
      this.cursor = entry;
      if (cohort.windowEnd + this.slowMs < this.timerAt) this.arm(now);
    } else if (this.timer === undefined) {
      this.arm(now);
    }
    return cohort;
  }

  /** Stops the clock on `entry` (it finished). */
  remove(entry: DeadlineEntry): void {
    const { prev, next } = entry;
    if (this.cursor === entry) this.cursor = next;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next === undefined) this.tail = prev;
    else next.prev = prev;
    entry.prev = undefined;
    entry.next = undefined;
  }

  private nextDue(): number {
    const slowDue = this.cursor === undefined ? Infinity : this.cursor.cohort!.windowEnd + this.slowMs;
    const deadline = this.head === undefined ? Infinity : this.head.cohort!.deadline;
    return slowDue < deadline ? slowDue : deadline;
  }

  private arm(now: number): void {
    const at = this.nextDue();
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (at === Infinity) {
      this.timer = undefined;
      this.timerAt = Infinity;
      return;
    }
    this.timerAt = at;
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(at - now)));
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    // Timers may fire a little early by the monotonic clock; allow 1 ms.
    const now = perf.now() + 1;
    while (this.cursor !== undefined && this.cursor.cohort!.windowEnd + this.slowMs <= now) {
      this.cursor.slow = true;
      this.cursor = this.cursor.next;
    }
    while (this.head !== undefined && this.head.cohort!.deadline <= now) {
      const entry = this.head;
      this.remove(entry);
      entry.expire(now - 1);
    }
    if (this.head === undefined && this.cohort !== undefined && this.cohort.windowEnd <= now) this.cohort = undefined;
    this.arm(now - 1);
  };

  /** When the timer next fires (monotonic ms), for tests. */
  get nextFireAt(): number | undefined {
    return this.timer === undefined ? undefined : this.timerAt;
  }
}

/** Deadline lists by timeout, for one operation. */
export class DeadlineScheduler {
  private readonly lists = new Map<number, DeadlineList>();

  constructor(private readonly slowMs: number) {}

  /** The list for `timeoutMs`, created on first use. */
  list(timeoutMs: number): DeadlineList {
    let list = this.lists.get(timeoutMs);
    if (list === undefined) {
      list = new DeadlineList(timeoutMs, this.slowMs);
      this.lists.set(timeoutMs, list);
    }
    return list;
  }
}
