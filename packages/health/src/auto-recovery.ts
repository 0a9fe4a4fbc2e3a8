import { consoleLogger, type Logger } from '@hardening/core';
import type { CheckResult, HealthReport } from './health-monitor.js';
import type { RecoveryAttempt, RecoveryManager } from './recovery-manager.js';

/**
 * Options for {@link startAutoRecovery}.
 *
 * @example
 * ```ts
 * import type { AutoRecoveryOptions } from '@hardening/health';
 * const options: AutoRecoveryOptions = {
 *   intervalMs: 15_000,
 *   failuresBeforeRecovery: 3,
 *   serviceFor: (result) => (result.name === 'postgres' ? 'database' : undefined),
 * };
 * ```
 */
export interface AutoRecoveryOptions {
  /**
   * How often the checks are looked at.
   * @default 30_000
   */
  readonly intervalMs?: number;
  /**
   * Consecutive failing looks at a check before its recovery runs (so one blip does not
   * trigger a reconnect).
   * @default 2
   */
  readonly failuresBeforeRecovery?: number;
  /**
   * Which recovery service a failing check maps to; `undefined` skips it.
   * @default the check's `name` when an action is registered under it
   */
  readonly serviceFor?: (result: CheckResult) => string | undefined;
  /**
   * Where skipped and failed rounds are logged.
   * @default consoleLogger({ component: '@hardening/health' })
   */
  readonly logger?: Logger;
}

const defaults = { intervalMs: 30_000, failuresBeforeRecovery: 2 };

/**
 * A running auto-recovery loop.
 *
 * @example
 * ```ts
 * import type { AutoRecovery } from '@hardening/health';
 * const stopOnShutdown = (loop: AutoRecovery) => () => loop.stop();
 * ```
 */
export interface AutoRecovery {
  /** Stops the loop (an attempt already running finishes). */
  stop(): void;
  /**
   * Looks at the checks once, now, and runs the recoveries that are due.
   * @returns The attempts made in this round.
   */
  runOnce(): Promise<RecoveryAttempt[]>;
}

/**
 * Watches the monitor's checks and runs the matching recovery action when a check keeps
 * failing, under the same cooldown and hourly limits as `POST /health/recover`.
 *
 * @param recovery - The recovery actions.
 * @param monitor - Where the check results come from (its cache applies: no extra probes).
 * @param options - See {@link AutoRecoveryOptions}.
 * @returns A handle to stop the loop.
 * @throws TypeError when an option is out of range.
 * @example
 * ```ts
 * import { HealthMonitor, RecoveryManager, startAutoRecovery, defineCheck } from '@hardening/health';
 *
 * const monitor = new HealthMonitor({ checks: [defineCheck('worker', () => true)] });
 * const recovery = new RecoveryManager({ actions: { worker: async () => {} } });
 * const loop = startAutoRecovery(recovery, monitor, { intervalMs: 15_000 });
 * process.once('SIGTERM', () => loop.stop());
 * ```
 */
export function startAutoRecovery(recovery: RecoveryManager, monitor: { report(): Promise<HealthReport> }, options: AutoRecoveryOptions = {}): AutoRecovery {
  const intervalMs = options.intervalMs ?? defaults.intervalMs;
  const threshold = options.failuresBeforeRecovery ?? defaults.failuresBeforeRecovery;
  if (typeof intervalMs !== 'number' || !(intervalMs > 0)) throw new TypeError(`Expected \`intervalMs\` to be a positive number, got ${String(intervalMs)}.`);
  if (!Number.isInteger(threshold) || threshold < 1) {
    throw new TypeError(`Expected \`failuresBeforeRecovery\` to be a positive integer, got ${String(threshold)}.`);
  }
  const logger = options.logger ?? consoleLogger({ component: '@hardening/health' });
  const serviceFor = options.serviceFor ?? ((result: CheckResult) => (recovery.serviceNames.includes(result.name) ? result.name : undefined));
  const failing = new Map<string, number>();
  // Results are cached: the same run seen twice (interval shorter than the cache) counts once.
  const seen = new Map<string, CheckResult>();
  let running: Promise<RecoveryAttempt[]> | undefined;
  let stopped = false;

  const round = async (): Promise<RecoveryAttempt[]> => {
    const report = await monitor.report();
    const due = new Set<string>();
    for (const result of report.checks) {
      const fresh = seen.get(result.key) !== result;
      seen.set(result.key, result);
      if (result.status !== 'fail') {
        failing.delete(result.key);
        continue;
      }
      const count = (failing.get(result.key) ?? 0) + (fresh ? 1 : 0);
      failing.set(result.key, count);
      const service = serviceFor(result);
      if (count >= threshold && service !== undefined) due.add(service);
    }
    const attempts: RecoveryAttempt[] = [];
    for (const service of due) {
      const refusal = recovery.refusal(service);
      if (refusal !== undefined) {
        logger.debug({ event: 'health.auto_recovery_skipped', service, reason: refusal.reason }, refusal.message);
        continue;
      }
      attempts.push(await recovery.recover(service, 'auto'));
    }
    return attempts;
  };

  const runOnce = (): Promise<RecoveryAttempt[]> => {
    // Rounds never overlap: a slow recovery delays the next look instead of doubling up.
    running ??= round()
      .catch((error: unknown) => {
        logger.error({ event: 'health.auto_recovery_error', error: String(error) }, 'auto-recovery round failed');
        return [];
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const timer = setInterval(() => {
    if (!stopped) void runOnce();
  }, intervalMs);
  timer.unref();
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
    runOnce,
  };
}
