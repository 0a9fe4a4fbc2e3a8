// Attempt deadlines on one shared timer per timeout value, written by hand because no
// timer library does this. A `setTimeout` + `clearTimeout` pair costs about 400 ns on
// Node 20 (bench/core.bench.ts), against about 50 ns for a bare `await fn()`.
//
// Attempts that share a timeout expire in the order they started, so a doubly linked list,
// appended at the tail and checked at the head, holds them in deadline order with O(1)
// insert and removal. The timer fires at the head's deadline and re-arms for the next head;
// removing a finished attempt never touches the timer (it fires, finds nothing due, and
// re-arms). It is unref'd: the call's own I/O keeps the process alive, an idle timer does not.
//
// The same list and timer find slow attempts, so a fast success needs no second clock read
// (a clock read costs about as much as a bare `await` here): a cursor walks the list in start
// order and marks each attempt still running `slowMs` after it started. An attempt that
// finishes unmarked took less than `slowMs`, give or take the timer's lateness; whoever needs
// exact durations (hooks, a breaker with a slow-call rule) reads the clock instead.
//
// Only the timer is shared. Each attempt keeps its own deadline and its own abort signal
// (see timed-attempt.ts): nothing one attempt does can expire or abort another.

/** A monotonic clock in milliseconds. */
export interface MonotonicClock {
  now(): number;
}

/** `performance`, looked up once: the global is a lazy getter on Node 20. */
export const performanceClock: MonotonicClock = performance;

/** An attempt with a deadline. */
export interface DeadlineEntry {
  /** Monotonic ms at which the entry expires. */
  deadline: number;
  prev: DeadlineEntry | undefined;
  next: DeadlineEntry | undefined;
  /** The list holding the entry, while it does. */
  list: DeadlineList | undefined;
  /** Set by the list once the entry has run `slowMs`. */
  slow: boolean;
  /** Called once the deadline has passed, after the entry left the list. */
  expire(): void;
}

/** In-flight attempts sharing one timeout, in deadline order. */
export class DeadlineList {
  private head: DeadlineEntry | undefined;
  private tail: DeadlineEntry | undefined;
  /** First entry not yet checked for slowness. */
  private cursor: DeadlineEntry | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  /** How an attempt on this list is timed (one object, shared by those attempts). */
  readonly timing: { readonly list: DeadlineList; readonly cutMs: undefined } = { list: this, cutMs: undefined };

  /** Mark entries slow after this long; Infinity when they time out first. */
  readonly slowMs: number;

  constructor(
    readonly timeoutMs: number,
    slowMs: number,
    private readonly clock: MonotonicClock,
  ) {
    this.slowMs = slowMs < timeoutMs ? slowMs : Infinity;
  }

  /** Starts the clock on `entry`, which started at `now`: it expires at `now + timeoutMs`. */
  add(entry: DeadlineEntry, now: number): void {
    entry.deadline = now + this.timeoutMs;
    entry.list = this;
    entry.slow = false;
    entry.next = undefined;
    entry.prev = this.tail;
    if (this.tail === undefined) this.head = entry;
    else this.tail.next = entry;
    this.tail = entry;
    if (this.cursor === undefined && this.slowMs !== Infinity) {
      this.cursor = entry;
      if (now + this.slowMs < this.timerAt) this.arm(now);
    } else if (this.timer === undefined) {
      this.arm(now);
    }
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
    entry.list = undefined;
  }

  private nextDue(): number {
    const slowDue = this.cursor === undefined ? Infinity : this.cursor.deadline - this.timeoutMs + this.slowMs;
    const deadline = this.head === undefined ? Infinity : this.head.deadline;
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
    this.timer.unref?.();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
    while (this.cursor !== undefined && this.cursor.deadline - this.timeoutMs + this.slowMs <= now) {
      this.cursor.slow = true;
      this.cursor = this.cursor.next;
    }
    // Timers may fire a little early by the monotonic clock: an entry not yet due waits
    // for the next round, so no attempt ever expires before its deadline.
    while (this.head !== undefined && this.head.deadline <= now) {
      const entry = this.head;
      this.remove(entry);
      entry.expire();
    }
    this.arm(now);
  };
}

/** Deadline lists by timeout and slow-call threshold, created on first use. */
export class DeadlineScheduler {
  private readonly lists = new Map<string, DeadlineList>();

  constructor(private readonly clock: MonotonicClock) {}

  /** The list for `timeoutMs` and `slowMs`. */
  list(timeoutMs: number, slowMs: number): DeadlineList {
    const key = `${timeoutMs}:${slowMs}`;
    let list = this.lists.get(key);
    if (list === undefined) {
      list = new DeadlineList(timeoutMs, slowMs, this.clock);
      this.lists.set(key, list);
    }
    return list;
  }
}
