import type { Logger, Timers } from '@hardening/core';
import { consoleLogger, resolveTimers } from '@hardening/core';
import type { AlertSender } from '../alert-sender.js';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { describeError } from '../delivery.js';
import type { Invariant, InvariantReport, InvariantViolation } from './invariant-checks.js';
import { InvariantChecks } from './invariant-checks.js';
import type { MonitorLock } from './monitor-lock.js';

export type { Invariant, InvariantReport, InvariantViolation, UncheckedInvariant } from './invariant-checks.js';

/**
 * What a check gets.
 *
 * @example
 * ```ts
 * monitor.register('stripe-balance', async ({ signal, round }) => {
 *   const res = await fetch('https://api.example.com/balance', { signal });
 *   if (!res.ok) throw new Error(`balance check failed in round ${round}`);
 * });
 * ```
 */
export interface RuntimeCheckContext {
  /** Aborts when the check's time is up. */
  readonly signal: AbortSignal;
  /** The round (interval number since the epoch). */
  readonly round: number;
  /** When the round started (epoch ms). */
  readonly startedAt: number;
}

/**
 * A periodic check: throw (or reject) to report it failed.
 *
 * @example
 * ```ts
 * import type { RuntimeCheck } from '@hardening/alerting';
 * const check: RuntimeCheck = async ({ signal }) => { await fetch('https://api.example.com/health', { signal }); };
 * ```
 */
export type RuntimeCheck = (context: RuntimeCheckContext) => unknown;

/**
 * Timers the monitor schedules with: core's {@link Timers} under the name alerting exported
 * first (kept so existing imports still compile).
 *
 * @deprecated Use `Timers` from `@hardening/core`.
 * @example
 * ```ts
 * import type { Timers } from '@hardening/core';
 * const timers: Timers = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout) };
 * ```
 */
export type MonitorTimers = Timers;

/**
 * Options for {@link RuntimeMonitor}.
 *
 * @example
 * ```ts
 * import type { RuntimeMonitorOptions } from '@hardening/alerting';
 * const options: RuntimeMonitorOptions = { intervalMs: 5 * 60_000, lock, alerts };
 * ```
 */
export interface RuntimeMonitorOptions {
  /**
   * Name (the lock key, logs).
   * @default 'runtime-monitor'
   */
  readonly name?: string;
  /**
   * Time between rounds. Rounds start on multiples of it (plus jitter), the same on every
   * instance, so a lock can give each round to one instance.
   * @default 300_000 (5 minutes)
   */
  readonly intervalMs?: number;
  /**
   * Random delay added to each round's start, so instances do not hit the lock and the
   * database at the same millisecond.
   * @default min(30 s, intervalMs / 10)
   */
  readonly jitterMs?: number;
  /**
   * Time a check may take; it then counts as failed (its signal aborts).
   * @default intervalMs / 2
   */
  readonly checkTimeoutMs?: number;
  /** Decides which instance runs each round; without one, every instance runs every round. */
  readonly lock?: MonitorLock;
  /** Where invariant violations and repeatedly failing checks are alerted. */
  readonly alerts?: AlertSender;
  /**
   * Consecutive failures of a check that raise `MONITOR_CHECK_FAILED`.
   * @default 3
   */
  readonly checkFailureThreshold?: number;
  /**
   * Where failures are logged.
   * @default JSON lines on the console
   */
  readonly logger?: Logger;
  /**
   * Current time.
   * @default Date.now
   */
  readonly clock?: Clock;
  /**
   * Timers.
   * @default the global setTimeout/clearTimeout (core's `systemTimers`)
   */
  readonly timers?: Timers;
  /**
   * Uniform random numbers in [0, 1), for the jitter.
   * @default Math.random
   */
  readonly random?: () => number;
}

/**
 * A check's record.
 *
 * @example
 * ```ts
 * const { checks } = monitor.status();
 * console.log(checks['stuck-clients']?.consecutiveFailures);
 * ```
 */
export interface CheckStatus {
  readonly lastRunAt: number | undefined;
  readonly lastOkAt: number | undefined;
  readonly lastError: string | undefined;
  readonly consecutiveFailures: number;
}

/**
 * What one round did.
 *
 * @example
 * ```ts
 * const { outcome, failures } = await monitor.runRound();
 * ```
 */
export interface RoundReport {
  readonly round: number;
  /** `ran`, or why not: `overlap` (the previous round still runs), `lock` (another instance has it), `stopped`. */
  readonly outcome: 'ran' | 'overlap' | 'lock' | 'stopped';
  /** Checks that failed (or timed out), with the reason. */
  readonly failures: ReadonlyArray<{ readonly check: string; readonly reason: string }>;
}

const defaults = { name: 'runtime-monitor', intervalMs: 5 * 60_000, checkFailureThreshold: 3 };

interface Registered {
  readonly check: RuntimeCheck;
  readonly timeoutMs: number | undefined;
  status: CheckStatus;
  alerted: boolean;
}

/**
 * Runs registered checks on an interval (default 5 minutes), side by side, never two
 * rounds at once in an instance (the next round is scheduled when one ends), never letting a check's error escape, with jitter; with a lock, one
 * instance of many runs each round. Start-up invariants raise `INVARIANT_VIOLATION` (one that
 * cannot be checked, `INVARIANT_UNCHECKED` after `checkFailureThreshold` tries); a
 * check failing `checkFailureThreshold` times in a row raises `MONITOR_CHECK_FAILED`.
 *
 * @example
 * ```ts
 * import { RuntimeMonitor, createRedisMonitorLock } from '@hardening/alerting';
 * const monitor = new RuntimeMonitor({ lock: createRedisMonitorLock({ redis }), alerts });
 * monitor.registerInvariant('twilio sender configured', () => process.env.TWILIO_FROM_NUMBER ? true : 'TWILIO_FROM_NUMBER is not set');
 * monitor.register('stuck-clients', () => stuck.check());
 * monitor.register('alert-maintenance', () => alerts.runMaintenance());
 * await monitor.start();
 * ```
 */
export class RuntimeMonitor {
  private readonly checks = new Map<string, Registered>();
  private readonly invariants: InvariantChecks;
  private readonly name: string;
  private readonly intervalMs: number;
  private readonly jitterMs: number;
  private readonly checkTimeoutMs: number;
  private readonly lock: MonitorLock | undefined;
  private readonly alerts: AlertSender | undefined;
  private readonly threshold: number;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly random: () => number;
  private timer: unknown;
  private running: Promise<RoundReport> | undefined;
  private started = false;
  private lastRound: RoundReport | undefined;

  /**
   * @param options - See {@link RuntimeMonitorOptions}.
   * @throws TypeError for a bad interval, jitter or timeout.
   */
  constructor(options: RuntimeMonitorOptions = {}) {
    this.name = options.name ?? defaults.name;
    this.intervalMs = options.intervalMs ?? defaults.intervalMs;
    if (!Number.isFinite(this.intervalMs) || this.intervalMs < 10)
      throw new TypeError(`Expected \`intervalMs\` to be at least 10 ms, got ${String(this.intervalMs)}.`);
    this.jitterMs = options.jitterMs ?? Math.min(30_000, this.intervalMs / 10);
    if (!Number.isFinite(this.jitterMs) || this.jitterMs < 0 || this.jitterMs >= this.intervalMs) {
      throw new TypeError(`Expected \`jitterMs\` to be from 0 to below intervalMs, got ${String(this.jitterMs)}.`);
    }
    this.checkTimeoutMs = options.checkTimeoutMs ?? this.intervalMs / 2;
    if (!Number.isFinite(this.checkTimeoutMs) || this.checkTimeoutMs <= 0)
      throw new TypeError(`Expected \`checkTimeoutMs\` to be positive, got ${String(this.checkTimeoutMs)}.`);
    this.threshold = options.checkFailureThreshold ?? defaults.checkFailureThreshold;
    if (!Number.isInteger(this.threshold) || this.threshold < 1) throw new TypeError('Expected `checkFailureThreshold` to be a positive integer.');
    this.lock = options.lock;
    this.alerts = options.alerts;
    this.logger = options.logger ?? consoleLogger({ component: 'runtime-monitor' });
    this.clock = options.clock ?? systemClock;
    this.timers = resolveTimers(options.timers);
    this.random = options.random ?? Math.random;
    this.invariants = new InvariantChecks({ monitor: this.name, threshold: this.threshold, alerts: this.alerts, logger: this.logger });
  }

  /**
   * Adds a periodic check.
   *
   * @param name - Unique name.
   * @param check - The check; it gets a signal that aborts at its timeout.
   * @param options - `timeoutMs` for this check.
   * @returns This monitor.
   * @throws TypeError for a duplicate name or a non-function.
   */
  register(name: string, check: RuntimeCheck, options: { readonly timeoutMs?: number } = {}): this {
    if (typeof check !== 'function') throw new TypeError(`Expected the check "${name}" to be a function.`);
    if (this.checks.has(name)) throw new TypeError(`A check named "${name}" is already registered.`);
    this.checks.set(name, {
      check,
      timeoutMs: options.timeoutMs,
      status: { lastRunAt: undefined, lastOkAt: undefined, lastError: undefined, consecutiveFailures: 0 },
      alerted: false,
    });
    return this;
  }

  /**
   * Adds a start-up invariant, checked by {@link RuntimeMonitor.start} (and
   * {@link RuntimeMonitor.checkInvariants}).
   *
   * @param name - What must hold (`twilio sender configured`).
   * @param invariant - `true` when it holds; `false` or a message when violated.
   * @returns This monitor.
   */
  registerInvariant(name: string, invariant: Invariant): this {
    if (typeof invariant !== 'function') throw new TypeError(`Expected the invariant "${name}" to be a function.`);
    this.invariants.add(name, invariant);
    return this;
  }

  /**
   * Checks the invariants (alerting `INVARIANT_VIOLATION`, HIGH, per violation), then
   * schedules the rounds. Calling it twice does nothing the second time.
   *
   * @returns The violations found.
   */
  async start(): Promise<InvariantViolation[]> {
    if (this.started) return [];
    this.started = true;
    const violations = await this.checkInvariants();
    this.schedule();
    return violations;
  }

  /** Stops scheduling, waits for a running round, and gives the lock up. */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    await this.lock?.release?.(this.name).catch(() => undefined);
  }

  /**
   * Runs every invariant; each violation is logged and alerted (`INVARIANT_VIOLATION`,
   * HIGH). Never throws. An invariant that throws is not a violation: it could not be
   * checked (see {@link RuntimeMonitor.verifyInvariants}).
   *
   * @returns The violations.
   */
  async checkInvariants(): Promise<InvariantViolation[]> {
    return [...(await this.invariants.run()).violations];
  }

  /**
   * Runs every invariant, as {@link RuntimeMonitor.checkInvariants} does, and tells which
   * hold, which are violated, and which could not be checked (they threw: logged, and
   * after `checkFailureThreshold` checks in a row `INVARIANT_UNCHECKED`, MEDIUM, resolved
   * when the invariant is checked again). Never throws.
   *
   * @returns The violated, the unchecked, and the holding invariants.
   * @example
   * ```ts
   * monitor.register('invariants', async () => {
   *   const { holding } = await monitor.verifyInvariants();
   *   for (const name of holding) await alerts.resolveAlert({ type: 'INVARIANT_VIOLATION', resourceId: name });
   * });
   * ```
   */
  verifyInvariants(): Promise<InvariantReport> {
    return this.invariants.run();
  }

  /**
   * Runs a round now (the timer calls this): skipped when the previous round is still
   * running, or when the lock gives the round to another instance. Never throws.
   *
   * @param at - The round's time (epoch ms).
   * @returns What the round did.
   */
  runRound(at = this.clock.now()): Promise<RoundReport> {
    const round = Math.floor(at / this.intervalMs);
    if (this.running !== undefined) {
      this.logger.warn({ monitor: this.name, round }, `${this.name}: previous round still running; round ${round} skipped`);
      return Promise.resolve({ round, outcome: 'overlap', failures: [] });
    }
    const run = this.round(round).finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  /** Checks' records and the last round, for a health or admin endpoint. */
  status(): {
    readonly started: boolean;
    readonly intervalMs: number;
    readonly lastRound: RoundReport | undefined;
    readonly checks: Readonly<Record<string, CheckStatus>>;
  } {
    const checks: Record<string, CheckStatus> = {};
    for (const [name, registered] of this.checks) checks[name] = { ...registered.status };
    return { started: this.started, intervalMs: this.intervalMs, lastRound: this.lastRound, checks };
  }

  /** When the round after `now` starts: the next multiple of the interval, plus jitter. */
  nextRunAt(now = this.clock.now()): number {
    return (Math.floor(now / this.intervalMs) + 1) * this.intervalMs + this.random() * this.jitterMs;
  }

  private schedule(): void {
    if (!this.started) return;
    const now = this.clock.now();
    const at = this.nextRunAt(now);
    const handle = this.timers.setTimeout(
      () => {
        this.timer = undefined;
        void this.runRound(at).finally(() => this.schedule());
      },
      Math.max(0, at - now),
    );
    (handle as { unref?: () => void } | undefined)?.unref?.();
    this.timer = handle;
  }

  private async round(round: number): Promise<RoundReport> {
    if (this.lock !== undefined) {
      let mine = false;
      try {
        mine = await this.lock.tryAcquire({ name: this.name, round, ttlMs: this.intervalMs });
      } catch (error) {
        this.logger.warn({ monitor: this.name, round, err: describeError(error) }, `${this.name}: lock unavailable; round ${round} skipped`);
      }
      if (!mine) return (this.lastRound = { round, outcome: 'lock', failures: [] });
    }
    const startedAt = this.clock.now();
    const failures: Array<{ check: string; reason: string }> = [];
    // Checks run side by side: a slow or hung one must not delay the others.
    const entries = [...this.checks];
    const reasons = await Promise.all(entries.map(([, registered]) => this.runCheck(registered, round, startedAt)));
    for (const [index, [name, registered]] of entries.entries()) {
      const reason = reasons[index];
      registered.status = {
        lastRunAt: startedAt,
        lastOkAt: reason === undefined ? startedAt : registered.status.lastOkAt,
        lastError: reason,
        consecutiveFailures: reason === undefined ? 0 : registered.status.consecutiveFailures + 1,
      };
      if (reason === undefined) {
        if (registered.alerted) {
          registered.alerted = false;
          await this.alerts?.resolveAlert({ type: 'MONITOR_CHECK_FAILED', resourceId: name, message: 'The check passes again.' }).catch(() => undefined);
        }
        continue;
      }
      failures.push({ check: name, reason });
      this.logger.error(
        { monitor: this.name, check: name, round, reason, consecutiveFailures: registered.status.consecutiveFailures },
        `${this.name}: check "${name}" failed: ${reason}`,
      );
      if (registered.status.consecutiveFailures >= this.threshold && !registered.alerted && this.alerts !== undefined) {
        registered.alerted = true;
        await this.alerts
          .sendCriticalAlert({
            type: 'MONITOR_CHECK_FAILED',
            severity: 'HIGH',
            resourceId: name,
            title: `Monitor check "${name}" failing`,
            message: `Failed ${registered.status.consecutiveFailures} rounds in a row: ${reason}`,
          })
          .catch(() => undefined);
      }
    }
    return (this.lastRound = { round, outcome: 'ran', failures });
  }

  /** Runs one check under its timeout; returns why it failed, or `undefined`. */
  private async runCheck(registered: Registered, round: number, startedAt: number): Promise<string | undefined> {
    const controller = new AbortController();
    const timeoutMs = registered.timeoutMs ?? this.checkTimeoutMs;
    let timer: unknown;
    const timeout = new Promise<string>((resolve) => {
      timer = this.timers.setTimeout(() => {
        controller.abort(new Error(`check timed out after ${timeoutMs} ms`));
        resolve(`timed out after ${timeoutMs} ms`);
      }, timeoutMs);
    });
    try {
      const work = Promise.resolve()
        .then(() => registered.check({ signal: controller.signal, round, startedAt }))
        .then(
          () => undefined,
          (error: unknown) => describeError(error),
        );
      return await Promise.race([work, timeout]);
    } finally {
      this.timers.clearTimeout(timer);
    }
  }
}
