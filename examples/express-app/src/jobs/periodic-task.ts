import { resolveTimers, scrubText, type Logger, type Timers } from '@hardening/core';
import type { Clock } from '@hardening/alerting';

/** Options of {@link PeriodicTask}. */
export interface PeriodicTaskOptions {
  /** For logs. */
  readonly name: string;
  /**
   * The work of one run. Resolve `true` for "more is waiting": the next run then starts at
   * once (a backlog drains without waiting an interval per batch).
   */
  readonly run: () => Promise<boolean | void>;
  /** Time from now to the next run. */
  readonly nextDelayMs: (now: number) => number;
  readonly logger: Logger;
  /** @default Date.now */
  readonly clock?: Clock;
  /** @default the global setTimeout/clearTimeout (vitest's fake timers work with them) */
  readonly timers?: Timers;
  /** While failing, one error line per this long (and one when it recovers). @default 60_000 */
  readonly failureLogEveryMs?: number;
}

const defaults = { failureLogEveryMs: 60_000 };

/**
 * A job loop: runs `run` on a schedule, never two runs at once (the next run is scheduled
 * when one ends), never letting an error out (it is logged, at most once a minute while the
 * failure lasts, and the loop carries on). The timers do not keep the process alive.
 * (Hand-written: the loops need a no-overlap, never-throw, injected-timer schedule that
 * setInterval and cron libraries do not give together, and it is 80 lines.)
 */
export class PeriodicTask {
  private timer: unknown;
  private running: Promise<void> | undefined;
  private started = false;
  private failingSince: number | undefined;
  private failures = 0;
  /** The last run said more work is waiting. */
  private more = false;
  private lastFailureLogAt = -Infinity;
  private readonly clock: Clock;
  private readonly timers: Timers;

  constructor(private readonly options: PeriodicTaskOptions) {
    this.clock = options.clock ?? { now: () => Date.now() };
    this.timers = resolveTimers(options.timers);
  }

  /** Schedules the first run (after `nextDelayMs`). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(this.options.nextDelayMs(this.clock.now()));
  }

  /** Stops scheduling and waits for a run in progress. */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Runs now (or joins the run in progress); never rejects. */
  runNow(): Promise<void> {
    this.running ??= this.runOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Resolves when no run is in progress. */
  async settled(): Promise<void> {
    await this.running;
  }

  /** Consecutive failed runs (0 when the last one succeeded). */
  get consecutiveFailures(): number {
    return this.failures;
  }

  private schedule(delayMs: number): void {
    if (!this.started) return;
    const handle = this.timers.setTimeout(
      () => {
        this.timer = undefined;
        void this.runNow().then(() => this.schedule(this.more ? 0 : this.options.nextDelayMs(this.clock.now())));
      },
      Math.max(0, delayMs),
    );
    (handle as { unref?: () => void } | undefined)?.unref?.();
    this.timer = handle;
  }

  private async runOnce(): Promise<void> {
    const { name, logger } = this.options;
    this.more = false;
    try {
      this.more = (await this.options.run()) === true;
      if (this.failures > 0) logger.info({ job: name, failedRuns: this.failures, failingForMs: this.clock.now() - this.failingSince! }, `${name}: recovered`);
      this.failures = 0;
      this.failingSince = undefined;
    } catch (error) {
      const now = this.clock.now();
      this.failures++;
      this.failingSince ??= now;
      if (now - this.lastFailureLogAt >= (this.options.failureLogEveryMs ?? defaults.failureLogEveryMs) || this.failures === 1) {
        this.lastFailureLogAt = now;
        logger.error(
          { job: name, consecutiveFailures: this.failures, err: scrubText(error instanceof Error ? error.message : String(error)).slice(0, 500) },
          `${name} failed; will run again`,
        );
      }
    }
  }
}
