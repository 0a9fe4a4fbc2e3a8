import type { Timers } from '@hardening/core';
import type { Clock } from '@hardening/alerting';

interface Pending {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * A clock and timers that move only when the test says so, for loops that also do real I/O
 * (a database): after each timer fires, `advance` waits for the work it started to finish
 * (`settle`) before moving on, so simulated time never runs past a query in flight. The
 * global timers stay real (PGlite arms its statement timeout with them).
 */
export class VirtualTime implements Clock, Timers {
  private current: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(start: number) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { id: ++this.seq, at: this.current + Math.max(0, ms), fn };
    this.pending.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((t) => t.id !== handle);
  }

  /** Timers waiting. */
  get timerCount(): number {
    return this.pending.length;
  }

  /**
   * Moves time `ms` ahead, firing due timers in order; after each, waits for `settle()` and
   * a turn of the real event loop.
   */
  async advance(ms: number, settle: () => Promise<void> = async () => {}): Promise<void> {
    const until = this.current + ms;
    for (;;) {
      const next = this.pending.reduce<Pending | undefined>(
        (first, t) => (first === undefined || t.at < first.at || (t.at === first.at && t.id < first.id) ? t : first),
        undefined,
      );
      if (next === undefined || next.at > until) break;
      this.pending = this.pending.filter((t) => t !== next);
      this.current = Math.max(this.current, next.at);
      next.fn();
      await settle();
      await new Promise((resolve) => setImmediate(resolve));
      await settle();
    }
    this.current = until;
  }
}
