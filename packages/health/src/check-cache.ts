import type { HealthCheck } from './health-check.js';
import { runCheck, type CheckRun } from './run-check.js';
import type { Timers } from '@hardening/core';

/** How one check is cached (internal; the monitor resolves these from its options). */
export interface CacheSettings {
  readonly timeoutMs: number;
  readonly cacheMs: number;
  readonly maxStaleMs: number;
  readonly now: () => number;
  readonly timers?: Timers | undefined;
  readonly onRun: (run: CheckRun, previous: CheckRun | undefined) => void;
}

/**
 * One check behind a stale-while-revalidate cache with a single flight.
 *
 * - A result younger than `cacheMs` is served as is.
 * - An older one (up to `maxStaleMs`) is served at once while one background run refreshes it.
 * - Without a usable result the caller waits for a run, bounded by the check's timeout.
 * - Whatever the number of callers, at most one run is in flight: a probe storm costs the
 *   dependency one probe per cache period, and nobody waits on a hung check once a
 *   result exists.
 *
 * Hand-written because the caching libraries on npm (lru-cache's fetchMethod, p-memoize)
 * either have no per-entry "serve stale while one refresh runs" with a bound on how stale,
 * or keep rejected promises; the whole policy is these few lines.
 */
export class CachedCheck {
  private last: CheckRun | undefined;
  private inflight: Promise<CheckRun> | undefined;
  /** How many times the check function has been started. */
  runs = 0;

  constructor(
    readonly check: HealthCheck,
    private readonly settings: CacheSettings,
  ) {}

  /** The newest finished run, without starting one. */
  get latest(): CheckRun | undefined {
    return this.last;
  }

  /** A result by the rules above: the cached run, or a promise of a fresh one. */
  get(): CheckRun | Promise<CheckRun> {
    const last = this.last;
    if (last !== undefined) {
      const age = this.settings.now() - last.completedAt;
      if (age < this.settings.cacheMs) return last;
      if (age < this.settings.maxStaleMs) {
        void this.refresh();
        return last;
      }
    }
    return this.refresh();
  }

  /** Starts a run unless one is in flight; resolves with that run. */
  refresh(): Promise<CheckRun> {
    return (this.inflight ??= this.start());
  }

  private async start(): Promise<CheckRun> {
    this.runs++;
    try {
      const run = await runCheck(this.check, this.settings.timeoutMs, this.settings.now, this.settings.timers);
      const previous = this.last;
      this.last = run;
      this.settings.onRun(run, previous);
      return run;
    } finally {
      this.inflight = undefined;
    }
  }
}
