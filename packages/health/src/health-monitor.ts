import { systemClock, type Clock } from '@hardening/circuit-breaker';
import { consoleLogger, scrubText, type Logger, definedFields } from '@hardening/core';
import { CachedCheck } from './check-cache.js';
import type { CheckObservation, HealthCheck } from './health-check.js';
import type { ComponentType, HealthStatus } from './health-status.js';
import type { CheckRun } from './run-check.js';
import { resolveTimers, type Timers } from '@hardening/core';

/**
 * Options for a {@link HealthMonitor}.
 *
 * @example
 * ```ts
 * import { HealthMonitor, envCheck } from '@hardening/health';
 * const monitor = new HealthMonitor({
 *   serviceId: 'sms-gateway',
 *   version: '1',
 *   releaseId: '1.4.2',
 *   checks: [envCheck({ required: ['DATABASE_URL'] })],
 *   cacheMs: 2000,
 *   timeoutMs: 500,
 * });
 * ```
 */
export interface HealthMonitorOptions {
  /**
   * The checks to run. More can be added with {@link HealthMonitor.addCheck}.
   * @default []
   */
  readonly checks?: readonly HealthCheck[] | undefined;
  /**
   * The draft's `serviceId`: which service this is.
   * @default undefined
   */
  readonly serviceId?: string | undefined;
  /**
   * The draft's `version`: the service's public (API) version.
   * @default undefined
   */
  readonly version?: string | undefined;
  /**
   * The draft's `releaseId`: the deployed release (package version, git SHA).
   * @default undefined
   */
  readonly releaseId?: string | undefined;
  /**
   * The draft's `description` of the service.
   * @default undefined
   */
  readonly description?: string | undefined;
  /**
   * How long one check run may take before it is abandoned and reported as
   * `fail: timed out after X ms`. Below Kubernetes' default probe timeout (1 s), so a
   * probe that has to wait for a run still gets an answer. A check's own `timeoutMs` wins.
   * @default 800
   */
  readonly timeoutMs?: number | undefined;
  /**
   * How long a check result is served before a refresh starts. The dependency sees at
   * most one probe per period, whatever the probe rate. A check's own `cacheMs` wins.
   * @default 1000
   */
  readonly cacheMs?: number | undefined;
  /**
   * How old a result may be and still be served while it is refreshed in the background.
   * Older results (after a quiet spell) are not served: the caller waits for a fresh run
   * (bounded by the timeout). Must be at least `cacheMs`.
   * @default 5000
   */
  readonly maxStaleMs?: number | undefined;
  /**
   * When true, `/health/startup` and readiness fail until {@link HealthMonitor.markStarted}
   * is called (after migrations, warm-up).
   * @default false
   */
  readonly waitForStartup?: boolean | undefined;
  /**
   * Where check status changes and lifecycle events are logged.
   * @default consoleLogger({ component: '@hardening/health' })
   */
  readonly logger?: Logger | undefined;
  /**
   * Time source for cache ages.
   * @default systemClock
   */
  readonly clock?: Clock | undefined;
  /**
   * Timers for the per-check timeouts; see {@link Timers}. Inject them (or use `vi.useFakeTimers()`, which
   * the default follows) to drive time in tests.
   * @default the global setTimeout/clearTimeout ({@link systemTimers})
   * @example
   * ```ts
   * { timers: { setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) } }
   * ```
   */
  readonly timers?: Timers | undefined;
}

const defaults = {
  checks: [] as readonly HealthCheck[],
  timeoutMs: 800,
  cacheMs: 1000,
  maxStaleMs: 5000,
  waitForStartup: false,
  clock: systemClock,
};

/**
 * The latest result of one check, as the monitor reports it.
 *
 * @example
 * ```ts
 * import type { CheckResult } from '@hardening/health';
 * const broken = (results: readonly CheckResult[]) => results.filter((r) => r.status === 'fail').map((r) => r.key);
 * ```
 */
export interface CheckResult {
  /** `name:measurement`, or `name` alone: the key in the draft's `checks` map. */
  readonly key: string;
  /** The check's component name. */
  readonly name: string;
  /** The draft's `componentType`. */
  readonly componentType: ComponentType;
  /** Whether a failure fails readiness and `/health`. */
  readonly critical: boolean;
  /** The worst of the observations, as the check reported it. */
  readonly status: HealthStatus;
  /** What the check observed (one per instance). */
  readonly observations: readonly CheckObservation[];
  /** When the run finished, ISO 8601. */
  readonly time: string;
  /** How long the run took, ms. */
  readonly durationMs: number;
  /** Whether the run was abandoned at its timeout. */
  readonly timedOut: boolean;
}

/**
 * Lifecycle of the service as the probes see it.
 *
 * @example
 * ```ts
 * import type { LifecycleState } from '@hardening/health';
 * const serving = (state: LifecycleState) => state === 'running';
 * ```
 */
export type LifecycleState = 'starting' | 'startup-failed' | 'running' | 'shutting-down';

/**
 * A health report: the overall status and every check that went into it.
 *
 * @example
 * ```ts
 * import { HealthMonitor } from '@hardening/health';
 * const report = await new HealthMonitor().report();
 * console.log(report.status, report.checks.length);
 * ```
 */
export interface HealthReport {
  /**
   * Overall status: `fail` when a critical check fails or the service is starting or
   * shutting down; `warn` when any check warns or a non-critical check fails; else `pass`.
   */
  readonly status: HealthStatus;
  /** Why the service is not serving, when the lifecycle decides the status. */
  readonly output: string | undefined;
  /** The lifecycle state when the report was made. */
  readonly lifecycle: LifecycleState;
  /** The checks that went into this report. */
  readonly checks: readonly CheckResult[];
  /** From the monitor options. */
  readonly serviceId: string | undefined;
  /** From the monitor options. */
  readonly version: string | undefined;
  /** From the monitor options. */
  readonly releaseId: string | undefined;
  /** From the monitor options. */
  readonly description: string | undefined;
  /** Process uptime, seconds. */
  readonly uptimeSeconds: number;
  /** When the report was made, ISO 8601. */
  readonly time: string;
}

/**
 * A change of one check's status, delivered to {@link HealthMonitor.onStatusChange} listeners.
 *
 * @example
 * ```ts
 * import type { CheckStatusChange } from '@hardening/health';
 * const describe = (c: CheckStatusChange) => `${c.key}: ${c.from ?? 'unknown'} -> ${c.to}`;
 * ```
 */
export interface CheckStatusChange {
  /** The check's key. */
  readonly key: string;
  /** Status before (`undefined` for the first run). */
  readonly from: HealthStatus | undefined;
  /** Status now. */
  readonly to: HealthStatus;
  /** The result that changed it. */
  readonly result: CheckResult;
}

interface Entry {
  readonly check: HealthCheck;
  readonly key: string;
  readonly critical: boolean;
  readonly cache: CachedCheck;
}

/**
 * The checks one question runs (liveness, readiness, the full report), chosen once when
 * checks are added, with the results it answered last: while every check serves the same
 * cached run, a probe gets the same results array back and allocates none.
 */
class Selection {
  readonly entries: Entry[] = [];
  private results: CheckResult[] = [];
  private runs: CheckRun[] = [];

  constructor(readonly includes: (entry: Entry) => boolean) {}

  add(entry: Entry): void {
    if (this.includes(entry)) this.entries.push(entry);
  }

  collect(): CheckResult[] | Promise<CheckResult[]> {
    const { entries } = this;
    // Copied out only from the first check whose run differs from last time.
    let runs: Array<CheckRun | Promise<CheckRun>> | undefined;
    for (let i = 0; i < entries.length; i++) {
      const run = entries[i]!.cache.get();
      if (runs === undefined) {
        if (run === this.runs[i]) continue;
        runs = this.runs.slice(0, i);
      }
      runs.push(run);
    }
    if (runs === undefined) return this.results;
    // Serve everything from cache without awaiting when possible: the hot path of a probe storm.
    // eslint-disable-next-line @typescript-eslint/await-thenable -- deliberately mixed: cached runs beside pending ones, without a Promise.resolve per check on this hot path
    if (runs.some((r) => r instanceof Promise)) return Promise.all(runs).then((settled) => this.remember(settled));
    return this.remember(runs as CheckRun[]);
  }

  private remember(runs: CheckRun[]): CheckResult[] {
    this.runs = runs;
    // Frozen: every probe served from these runs gets this same array.
    this.results = Object.freeze(runs.map((run, i) => toResult(this.entries[i]!, run))) as CheckResult[];
    return this.results;
  }
}

const lifecycleOutput: Record<LifecycleState, string | undefined> = {
  starting: 'starting',
  'startup-failed': 'startup failed',
  running: undefined,
  'shutting-down': 'shutting down',
};

function assertPositive(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`Expected \`${name}\` to be a positive number, got ${String(value)}.`);
  }
}

/**
 * Runs health checks and answers the three probe questions: is the process alive
 * ({@link HealthMonitor.live}), can it take traffic ({@link HealthMonitor.ready}), has it
 * started ({@link HealthMonitor.startup}); plus the full {@link HealthMonitor.report}.
 *
 * Every check runs under its own timeout, all of them in parallel, behind a
 * stale-while-revalidate cache with a single flight: a probe storm costs each dependency at
 * most one probe per `cacheMs`, and once a result exists no probe waits on a hung check.
 * HTTP lives elsewhere (`createHealthHandler`, `createHealthRouter`).
 *
 * @example
 * ```ts
 * import { HealthMonitor, defineCheck } from '@hardening/health';
 *
 * const monitor = new HealthMonitor({
 *   serviceId: 'sms-gateway',
 *   waitForStartup: true,
 *   checks: [defineCheck('config', () => process.env.NODE_ENV !== undefined, { critical: false })],
 * });
 * // ... run migrations, warm caches ...
 * monitor.markStarted();
 * const { status } = await monitor.ready();
 * ```
 */
export class HealthMonitor {
  private readonly entries: Entry[] = [];
  private readonly liveChecks = new Selection((e) => e.check.liveness === true);
  private readonly readyChecks = new Selection((e) => e.critical);
  private readonly allChecks = new Selection(() => true);
  // The report's ISO time, made once per clock millisecond (a probe storm asks many times).
  private timeMs = Number.NaN;
  private timeIso = '';
  private readonly options: {
    readonly [K in 'timeoutMs' | 'cacheMs' | 'maxStaleMs' | 'clock']-?: Exclude<HealthMonitorOptions[K], undefined>;
  } & HealthMonitorOptions;
  private readonly logger: Logger;
  private readonly timers: Timers;
  private state: LifecycleState;
  private startupError: string | undefined;
  private listeners: Array<(change: CheckStatusChange) => void> = [];

  /**
   * @param options - See {@link HealthMonitorOptions}.
   * @throws TypeError when an option is out of range or two checks share a key.
   */
  constructor(options: HealthMonitorOptions = {}) {
    const resolved = { ...defaults, ...definedFields(options) };
    assertPositive('timeoutMs', resolved.timeoutMs);
    assertPositive('cacheMs', resolved.cacheMs);
    assertPositive('maxStaleMs', resolved.maxStaleMs);
    if (resolved.maxStaleMs < resolved.cacheMs) {
      throw new TypeError(`Expected \`maxStaleMs\` (${resolved.maxStaleMs}) to be at least \`cacheMs\` (${resolved.cacheMs}).`);
    }
    if (!Array.isArray(resolved.checks)) throw new TypeError('Expected `checks` to be an array of health checks.');
    this.options = resolved;
    this.timers = resolveTimers(options.timers);
    this.logger = options.logger ?? consoleLogger({ component: '@hardening/health' });
    this.state = resolved.waitForStartup ? 'starting' : 'running';
    // `Array.isArray` above narrowed the list to `any[]`; its entries are checked one by one in addCheck.
    for (const check of resolved.checks as readonly HealthCheck[]) this.addCheck(check);
  }

  /**
   * Adds a check.
   *
   * @param check - The check.
   * @returns The monitor, for chaining.
   * @throws TypeError when the check is malformed or its key is taken.
   */
  addCheck(check: HealthCheck): this {
    if (typeof check !== 'object' || check === null || typeof check.check !== 'function') {
      throw new TypeError('Expected a health check: an object with `name` and a `check` function.');
    }
    if (typeof check.name !== 'string' || check.name.length === 0) throw new TypeError('Expected the check `name` to be a non-empty string.');
    if (check.timeoutMs !== undefined) assertPositive(`${check.name}.timeoutMs`, check.timeoutMs);
    if (check.cacheMs !== undefined) assertPositive(`${check.name}.cacheMs`, check.cacheMs);
    const key = check.measurement === undefined ? check.name : `${check.name}:${check.measurement}`;
    if (this.entries.some((e) => e.key === key)) throw new TypeError(`Expected check keys to be unique; "${key}" is used twice.`);
    const critical = check.critical ?? true;
    const cacheMs = check.cacheMs ?? this.options.cacheMs;
    const cache = new CachedCheck(check, {
      timeoutMs: check.timeoutMs ?? this.options.timeoutMs,
      cacheMs,
      maxStaleMs: Math.max(this.options.maxStaleMs, cacheMs),
      now: () => this.options.clock.now(),
      timers: this.timers,
      onRun: (run, previous) => this.onRun(entry, run, previous),
    });
    const entry: Entry = { check, key, critical, cache };
    this.entries.push(entry);
    this.liveChecks.add(entry);
    this.readyChecks.add(entry);
    this.allChecks.add(entry);
    return this;
  }

  /** The keys of every check, in the order they were added. */
  get checkKeys(): readonly string[] {
    return this.entries.map((e) => e.key);
  }

  /** The current lifecycle state. */
  get lifecycle(): LifecycleState {
    return this.state;
  }

  /**
   * Start-up work is done: `/health/startup` passes and readiness may pass. Has no effect
   * once shutting down.
   */
  markStarted(): void {
    if (this.state === 'starting' || this.state === 'startup-failed') {
      this.state = 'running';
      this.startupError = undefined;
      this.logger.info({ event: 'health.started' }, 'health: start-up complete');
    }
  }

  /**
   * Start-up work failed: `/health/startup` keeps failing (so the orchestrator restarts the
   * instance) and the error text is shown to admins.
   *
   * @param error - What went wrong.
   */
  markStartupFailed(error: unknown): void {
    if (this.state === 'shutting-down') return;
    this.state = 'startup-failed';
    this.startupError = scrubText(error instanceof Error ? error.message : String(error));
    this.logger.error({ event: 'health.startup_failed', error: this.startupError }, 'health: start-up failed');
  }

  /** The service is shutting down: readiness fails from now on. Called by graceful shutdown. */
  markShuttingDown(): void {
    if (this.state === 'shutting-down') return;
    this.state = 'shutting-down';
    this.logger.info({ event: 'health.shutting_down' }, 'health: shutting down; readiness now fails');
  }

  /**
   * Liveness: the process is up. Runs only checks marked `liveness: true` (none by
   * default), never dependencies, and ignores the lifecycle.
   *
   * @returns The report.
   */
  async live(): Promise<HealthReport> {
    const checks = this.liveChecks.collect();
    return this.build(checks instanceof Promise ? await checks : checks, undefined);
  }

  /**
   * Readiness: critical checks pass (warn counts as passing) and the service is running.
   * While starting or shutting down it fails at once, showing the last known results
   * without running any check.
   *
   * @returns The report; `status` is `fail` when the instance should get no traffic.
   */
  async ready(): Promise<HealthReport> {
    if (this.state !== 'running') {
      // Not serving anyway: answer at once from what is known, never wait on a check.
      return this.build(
        this.latest().filter((r) => r.critical),
        this.state,
      );
    }
    const checks = this.readyChecks.collect();
    return this.build(checks instanceof Promise ? await checks : checks, this.state);
  }

  /**
   * Start-up: passes once {@link HealthMonitor.markStarted} was called (at once without
   * `waitForStartup`). Runs no checks: a database down at boot must not make the
   * orchestrator restart the instance in a loop.
   *
   * @returns The report.
   */
  startup(): HealthReport {
    const report = this.build([], this.state === 'shutting-down' ? 'running' : this.state);
    if (this.state === 'startup-failed' && this.startupError !== undefined) {
      return { ...report, output: `startup failed: ${this.startupError}` };
    }
    return report;
  }

  /**
   * Every check, with the lifecycle: what `/health` shows.
   *
   * @returns The report.
   */
  async report(): Promise<HealthReport> {
    const checks = this.allChecks.collect();
    return this.build(checks instanceof Promise ? await checks : checks, this.state);
  }

  /**
   * Runs every check now (single flight still applies) and returns the report; for
   * warming the cache at start-up.
   *
   * @returns The report.
   */
  async refresh(): Promise<HealthReport> {
    await Promise.all(this.entries.map((e) => e.cache.refresh()));
    return this.report();
  }

  /**
   * The latest finished result of every check, without running any.
   *
   * @returns One result per check that has run at least once.
   */
  latest(): CheckResult[] {
    const out: CheckResult[] = [];
    for (const entry of this.entries) {
      const run = entry.cache.latest;
      if (run !== undefined) out.push(toResult(entry, run));
    }
    return out;
  }

  /**
   * How many times each check has been started, by key: the number of probes each
   * dependency has seen from this monitor.
   *
   * @returns Runs per check key.
   */
  runCounts(): Record<string, number> {
    return Object.fromEntries(this.entries.map((e) => [e.key, e.cache.runs]));
  }

  /**
   * Listens to check status changes (including the first result of each check).
   *
   * @param listener - Called after each change.
   * @returns A function that removes the listener.
   */
  onStatusChange(listener: (change: CheckStatusChange) => void): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Releases what the checks hold (event-loop histograms). */
  close(): void {
    for (const entry of this.entries) entry.check.close?.();
  }

  private build(checks: readonly CheckResult[], lifecycle: LifecycleState | undefined): HealthReport {
    // worstStatus over the effective statuses, without an array per probe.
    let status: HealthStatus = 'pass';
    for (const check of checks) {
      const effective = effectiveStatus(check);
      if (effective === 'fail' || (effective === 'warn' && status === 'pass')) status = effective;
    }
    const output = lifecycle === undefined ? undefined : lifecycleOutput[lifecycle];
    if (output !== undefined) status = 'fail';
    return {
      status,
      output,
      lifecycle: this.state,
      checks,
      serviceId: this.options.serviceId,
      version: this.options.version,
      releaseId: this.options.releaseId,
      description: this.options.description,
      uptimeSeconds: Math.round(process.uptime() * 1000) / 1000,
      time: this.isoNow(),
    };
  }

  private isoNow(): string {
    const now = this.options.clock.now();
    if (now !== this.timeMs) {
      this.timeMs = now;
      this.timeIso = new Date(now).toISOString();
    }
    return this.timeIso;
  }

  private onRun(entry: Entry, run: CheckRun, previous: CheckRun | undefined): void {
    if (previous !== undefined && previous.status === run.status) return;
    const result = toResult(entry, run);
    const fields = {
      event: 'health.check_status',
      check: entry.key,
      from: previous?.status,
      to: run.status,
      critical: entry.critical,
      durationMs: run.durationMs,
      output: run.observations.map((o) => o.output).filter((o) => o !== undefined),
    };
    if (run.status === 'pass') {
      if (previous !== undefined) this.logger.info(fields, `health: ${entry.key} recovered`);
    } else if (run.status === 'fail' && entry.critical) {
      this.logger.error(fields, `health: ${entry.key} failing`);
    } else {
      this.logger.warn(fields, `health: ${entry.key} ${run.status}`);
    }
    for (const listener of this.listeners) {
      try {
        listener({ key: entry.key, from: previous?.status, to: run.status, result });
      } catch (error) {
        this.logger.error({ event: 'health.listener_error', error: String(error) }, 'health: status listener threw');
      }
    }
  }
}

/** A non-critical check's failure counts as `warn` for the service. */
function effectiveStatus(result: CheckResult): HealthStatus {
  return !result.critical && result.status === 'fail' ? 'warn' : result.status;
}

const results = new WeakMap<CheckRun, CheckResult>();

/** The result for a run, built once per run: a probe storm serves the same object. */
function toResult(entry: Entry, run: CheckRun): CheckResult {
  const cached = results.get(run);
  if (cached !== undefined) return cached;
  const result: CheckResult = {
    key: entry.key,
    name: entry.check.name,
    componentType: entry.check.componentType ?? 'component',
    critical: entry.critical,
    status: run.status,
    observations: run.observations,
    time: new Date(run.completedAt).toISOString(),
    durationMs: run.durationMs,
    timedOut: run.timedOut,
  };
  results.set(run, result);
  return result;
}
