import type { Logger } from '@hardening/core';
import type { MaintenanceReport } from './alert-service-options.js';
import { describeError } from './delivery.js';

/**
 * Runs the service's maintenance round every `intervalMs` (a timer that does not keep the
 * process alive), never two rounds at once in one instance: a round asked for while one
 * runs joins it.
 *
 * @example
 * ```ts
 * const loop = new MaintenanceLoop(() => maintain(), logger);
 * loop.start(10_000);
 * await loop.run(); // joins the running round, if any
 * loop.stop();
 * await loop.idle();
 * ```
 */
export class MaintenanceLoop {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<MaintenanceReport> | undefined;
  private stopped = false;

  /**
   * @param round - One maintenance round.
   * @param logger - Where a failed scheduled round is logged.
   */
  constructor(
    private readonly round: () => Promise<MaintenanceReport>,
    private readonly logger: Logger,
  ) {}

  /**
   * Runs a round now, or joins the one running.
   *
   * @returns The round's report.
   */
  run(): Promise<MaintenanceReport> {
    this.running ??= this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * Schedules a round every `intervalMs` (after the previous one ended), until {@link MaintenanceLoop.stop}.
   *
   * @param intervalMs - The pause between rounds.
   */
  start(intervalMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.run()
        .catch((error) => this.logger.warn({ err: describeError(error) }, 'alerting maintenance failed'))
        .finally(() => this.start(intervalMs));
    }, intervalMs);
    this.timer.unref?.();
  }

  /** Stops scheduling rounds (a running round goes on: see {@link MaintenanceLoop.idle}). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Resolves once no round runs (a failed round included). */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }
}
