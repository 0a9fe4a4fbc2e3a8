import { consoleLogger, scrubText, type Logger } from '@hardening/core';
import type { IdempotencyStore } from './store.js';

/**
 * Options for {@link scheduleCleanup}.
 *
 * @example
 * ```ts
 * scheduleCleanup(store, { intervalMs: 15 * 60_000 });
 * ```
 */
export interface CleanupJobOptions {
  /**
   * Time between runs.
   * @default 600_000 (10 min)
   */
  readonly intervalMs?: number | undefined;
  /**
   * Where each run's count and any failure are logged.
   * @default consoleLogger()
   */
  readonly logger?: Logger | undefined;
}

/** A running cleanup job. */
export interface CleanupJob {
  /** Runs a cleanup now; resolves with the rows deleted (0 if it failed, which is logged). */
  runNow(): Promise<number>;
  /** Stops the timer. */
  stop(): void;
}

const defaults = { intervalMs: 600_000 };

/**
 * Deletes expired records every `intervalMs`, for stores that need it (PostgreSQL keeps
 * expired rows until deleted; Redis expires keys itself and the memory store sweeps as it
 * goes, so for them this does nothing useful). The timer does not keep the process alive.
 *
 * @param store - A store; one without `cleanup` gets a job that does nothing.
 * @param options - See {@link CleanupJobOptions}.
 * @returns A {@link CleanupJob}.
 * @throws TypeError when `intervalMs` is not a positive number.
 * @example
 * ```ts
 * import { createPrismaStore, scheduleCleanup } from '@hardening/idempotency';
 * const store = createPrismaStore({ prisma });
 * const job = scheduleCleanup(store, { intervalMs: 600_000 });
 * process.on('SIGTERM', () => job.stop());
 * ```
 */
export function scheduleCleanup(store: IdempotencyStore, options: CleanupJobOptions = {}): CleanupJob {
  const { intervalMs = defaults.intervalMs, logger = consoleLogger({ component: 'idempotency' }) } = options;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new TypeError(`Expected \`intervalMs\` to be a positive number, got ${String(intervalMs)}.`);
  }
  let running: Promise<number> | undefined;
  const runNow = (): Promise<number> => {
    if (store.cleanup === undefined) return Promise.resolve(0);
    running ??= store
      .cleanup()
      .then(
        (deleted) => {
          if (deleted > 0) logger.info({ deleted }, 'idempotency: expired records deleted');
          return deleted;
        },
        (error: unknown) => {
          logger.error({ err: scrubText(error instanceof Error ? error.message : String(error)) }, 'idempotency: cleanup failed');
          return 0;
        },
      )
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void runNow(), intervalMs);
  timer.unref();
  return { runNow, stop: () => clearInterval(timer) };
}
