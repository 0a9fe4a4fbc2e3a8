import { systemClock, type Clock } from '@hardening/circuit-breaker';
import { TimeoutError, consoleLogger, type Logger } from '@hardening/core';
import { RecoveryRefusedError } from './errors/recovery-refused-error.js';
import { describeError } from './run-check.js';
import { resolveTimers, type Timers } from '@hardening/core';

/**
 * What started a recovery attempt.
 *
 * @example
 * ```ts
 * import type { RecoveryTrigger } from '@hardening/health';
 * const byHuman = (t: RecoveryTrigger) => t === 'manual';
 * ```
 */
export type RecoveryTrigger = 'manual' | 'auto';

/**
 * What a recovery action receives.
 *
 * @example
 * ```ts
 * import type { RecoveryContext } from '@hardening/health';
 * const log = ({ service, trigger }: RecoveryContext) => console.log(`recovering ${service} (${trigger})`);
 * ```
 */
export interface RecoveryContext {
  /** The service being recovered. */
  readonly service: string;
  /** `manual` (HTTP) or `auto` (the auto-recovery loop). */
  readonly trigger: RecoveryTrigger;
  /** Aborted when the action's timeout elapses. */
  readonly signal: AbortSignal;
}

/**
 * A recovery action: reconnect a database, reset a breaker, restart a worker. Resolving
 * means it succeeded; throwing (or rejecting) means it failed.
 *
 * @example
 * ```ts
 * import type { RecoveryAction } from '@hardening/health';
 * import { getDefaultRegistry } from '@hardening/circuit-breaker';
 * const resetTwilioBreaker: RecoveryAction = () => getDefaultRegistry().get('twilio_sms').reset();
 * ```
 */
export type RecoveryAction = (context: RecoveryContext) => unknown;

/**
 * Limits of one service's action; each defaults to the manager's.
 *
 * @example
 * ```ts
 * import type { RecoveryLimits } from '@hardening/health';
 * const limits: RecoveryLimits = { cooldownMs: 60_000, maxPerHour: 3, timeoutMs: 10_000 };
 * ```
 */
export interface RecoveryLimits {
  /**
   * Minimum time between two attempts for the service, counted from the start of the last one.
   * @default 300_000 (5 minutes)
   */
  readonly cooldownMs?: number | undefined;
  /**
   * Attempts allowed per service in any sliding hour.
   * @default 6
   */
  readonly maxPerHour?: number | undefined;
  /**
   * How long one attempt may take before it counts as failed.
   * @default 30_000
   */
  readonly timeoutMs?: number | undefined;
}

/**
 * Options for a {@link RecoveryManager}.
 *
 * @example
 * ```ts
 * import { RecoveryManager } from '@hardening/health';
 * const recovery = new RecoveryManager({
 *   actions: { postgres: async () => {} },
 *   cooldownMs: 120_000,
 *   maxPerHour: 4,
 * });
 * ```
 */
export interface RecoveryManagerOptions extends RecoveryLimits {
  /**
   * Actions by service name; more with {@link RecoveryManager.register}.
   * @default {}
   */
  readonly actions?: Readonly<Record<string, RecoveryAction>> | undefined;
  /**
   * Attempts kept for {@link RecoveryManager.stats} (`recent`).
   * @default 50
   */
  readonly historySize?: number | undefined;
  /**
   * Where attempts are logged.
   * @default consoleLogger({ component: '@hardening/health' })
   */
  readonly logger?: Logger | undefined;
  /**
   * Time source for cooldowns and limits.
   * @default systemClock
   */
  readonly clock?: Clock | undefined;
  /**
   * Timers for the recovery action's timeout; see {@link Timers}. Inject them (or use `vi.useFakeTimers()`, which
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
  cooldownMs: 300_000,
  maxPerHour: 6,
  timeoutMs: 30_000,
  historySize: 50,
  clock: systemClock,
};

const hourMs = 3_600_000;

/**
 * One recovery attempt, as recorded in the stats.
 *
 * @example
 * ```ts
 * import type { RecoveryAttempt } from '@hardening/health';
 * const failed = (a: RecoveryAttempt) => a.outcome === 'failed';
 * ```
 */
export interface RecoveryAttempt {
  /** The service. */
  readonly service: string;
  /** What started it. */
  readonly trigger: RecoveryTrigger;
  /** When it started, ISO 8601. */
  readonly startedAt: string;
  /** How long it took, ms. */
  readonly durationMs: number;
  /** `succeeded` or `failed`. */
  readonly outcome: 'succeeded' | 'failed';
  /** The error's message when it failed (scrubbed of secrets). */
  readonly error?: string;
}

/**
 * Per-service counters in {@link RecoveryStats}.
 *
 * @example
 * ```ts
 * import type { ServiceRecoveryStats } from '@hardening/health';
 * const flaky = (s: ServiceRecoveryStats) => (s.successRate ?? 1) < 0.5;
 * ```
 */
export interface ServiceRecoveryStats {
  readonly attempts: number;
  readonly successes: number;
  readonly failures: number;
  /** successes / attempts, or `null` before the first attempt. */
  readonly successRate: number | null;
  /** When the last attempt started, ISO 8601. */
  readonly lastAttemptAt: string | null;
  /** When the next attempt is allowed, ISO 8601 (`null`: now). */
  readonly nextAllowedAt: string | null;
  /** Whether an attempt is running. */
  readonly inProgress: boolean;
}

/**
 * What `GET /health/recovery-stats` returns.
 *
 * @example
 * ```ts
 * import { RecoveryManager } from '@hardening/health';
 * const { attempts, successRate, recent } = new RecoveryManager().stats();
 * ```
 */
export interface RecoveryStats {
  readonly attempts: number;
  readonly successes: number;
  readonly failures: number;
  /** successes / attempts, or `null` before the first attempt. */
  readonly successRate: number | null;
  readonly services: Readonly<Record<string, ServiceRecoveryStats>>;
  /** The newest attempts first, at most `historySize`. */
  readonly recent: readonly RecoveryAttempt[];
}

interface ServiceState {
  readonly action: RecoveryAction;
  readonly cooldownMs: number;
  readonly maxPerHour: number;
  readonly timeoutMs: number;
  /** Start times (epoch ms) within the last hour. */
  starts: number[];
  inProgress: boolean;
  attempts: number;
  successes: number;
}

function assertLimits(prefix: string, limits: RecoveryLimits): void {
  for (const key of ['cooldownMs', 'timeoutMs'] as const) {
    const value = limits[key];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
      throw new TypeError(`Expected \`${prefix}${key}\` to be a non-negative number, got ${String(value)}.`);
    }
  }
  const max = limits.maxPerHour;
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
    throw new TypeError(`Expected \`${prefix}maxPerHour\` to be a positive integer, got ${String(max)}.`);
  }
}

/**
 * Recovery actions per service, with limits: one attempt per service per cooldown
 * (default 5 min), at most `maxPerHour` per service, never two at once, each bounded by a
 * timeout; every attempt recorded with its timing and error for
 * `GET /health/recovery-stats`. Mount it with `createHealthRouter({ recovery, recoveryToken })`,
 * or drive it from failing checks with `startAutoRecovery`.
 *
 * @example
 * ```ts
 * import { RecoveryManager } from '@hardening/health';
 * import { getDefaultRegistry } from '@hardening/circuit-breaker';
 *
 * const recovery = new RecoveryManager({ cooldownMs: 5 * 60_000, maxPerHour: 6 });
 * recovery.register('twilio_sms', () => getDefaultRegistry().get('twilio_sms').reset());
 * const attempt = await recovery.recover('twilio_sms');
 * console.log(attempt.outcome, attempt.durationMs);
 * ```
 */
export class RecoveryManager {
  private readonly services = new Map<string, ServiceState>();
  private readonly history: RecoveryAttempt[] = [];
  private readonly options: typeof defaults & RecoveryManagerOptions;
  private readonly timers: Timers;
  private readonly logger: Logger;

  /**
   * @param options - See {@link RecoveryManagerOptions}.
   * @throws TypeError when an option is out of range.
   */
  constructor(options: RecoveryManagerOptions = {}) {
    assertLimits('', options);
    const historySize = options.historySize;
    if (historySize !== undefined && (!Number.isInteger(historySize) || historySize < 1)) {
      throw new TypeError(`Expected \`historySize\` to be a positive integer, got ${String(historySize)}.`);
    }
    const set = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.options = { ...defaults, ...set };
    this.timers = resolveTimers(options.timers);
    this.logger = options.logger ?? consoleLogger({ component: '@hardening/health' });
    for (const [service, action] of Object.entries(options.actions ?? {})) this.register(service, action);
  }

  /**
   * Registers (or replaces) the action for a service.
   *
   * @param service - Service name, e.g. `postgres`; `all` is reserved.
   * @param action - What to run.
   * @param limits - Limits for this service; default to the manager's.
   * @returns The manager, for chaining.
   * @throws TypeError when the name is empty or `all`, the action is not a function, or a limit is out of range.
   */
  register(service: string, action: RecoveryAction, limits: RecoveryLimits = {}): this {
    if (typeof service !== 'string' || service.length === 0 || service === 'all') {
      throw new TypeError('Expected `service` to be a non-empty string other than "all".');
    }
    if (typeof action !== 'function') throw new TypeError(`Expected the recovery action for "${service}" to be a function.`);
    assertLimits(`${service}.`, limits);
    const previous = this.services.get(service);
    this.services.set(service, {
      action,
      cooldownMs: limits.cooldownMs ?? this.options.cooldownMs,
      maxPerHour: limits.maxPerHour ?? this.options.maxPerHour,
      timeoutMs: limits.timeoutMs ?? this.options.timeoutMs,
      starts: previous?.starts ?? [],
      inProgress: previous?.inProgress ?? false,
      attempts: previous?.attempts ?? 0,
      successes: previous?.successes ?? 0,
    });
    return this;
  }

  /** The registered service names. */
  get serviceNames(): string[] {
    return [...this.services.keys()];
  }

  /**
   * Whether an attempt for `service` would run now.
   *
   * @param service - The service.
   * @returns `undefined` when allowed, else the refusal (not thrown).
   */
  refusal(service: string): RecoveryRefusedError | undefined {
    const state = this.services.get(service);
    if (state === undefined) return new RecoveryRefusedError(service, 'unknown-service');
    if (state.inProgress) return new RecoveryRefusedError(service, 'in-progress');
    const now = this.options.clock.now();
    state.starts = state.starts.filter((t) => t > now - hourMs);
    const last = state.starts.at(-1);
    if (last !== undefined && now - last < state.cooldownMs) {
      return new RecoveryRefusedError(service, 'cooldown', last + state.cooldownMs - now);
    }
    if (state.starts.length >= state.maxPerHour) {
      return new RecoveryRefusedError(service, 'hourly-limit', state.starts[0]! + hourMs - now);
    }
    return undefined;
  }

  /**
   * Runs the action for `service` if its limits allow. A failing action does not throw:
   * the attempt comes back with `outcome: 'failed'` and its error.
   *
   * @param service - The service.
   * @param trigger - Who asked.
   * @returns The attempt.
   * @throws RecoveryRefusedError when the service is unknown, running, cooling down or at its hourly limit.
   */
  async recover(service: string, trigger: RecoveryTrigger = 'manual'): Promise<RecoveryAttempt> {
    const refused = this.refusal(service);
    if (refused !== undefined) throw refused;
    const state = this.services.get(service)!;
    const startedAt = this.options.clock.now();
    state.starts.push(startedAt);
    state.inProgress = true;
    const started = performance.now();
    let error: string | undefined;
    try {
      await runWithTimeout(this.timers, state.action, { service, trigger }, state.timeoutMs);
      state.successes++;
    } catch (caught) {
      error = describeError(caught);
    } finally {
      state.inProgress = false;
      state.attempts++;
    }
    const attempt: RecoveryAttempt = {
      service,
      trigger,
      startedAt: new Date(startedAt).toISOString(),
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      outcome: error === undefined ? 'succeeded' : 'failed',
      ...(error === undefined ? {} : { error }),
    };
    this.history.unshift(attempt);
    if (this.history.length > this.options.historySize) this.history.length = this.options.historySize;
    const fields = { event: 'health.recovery', service, trigger, durationMs: attempt.durationMs, outcome: attempt.outcome, error };
    if (error === undefined) this.logger.info(fields, `recovery: ${service} succeeded`);
    else this.logger.error(fields, `recovery: ${service} failed`);
    return attempt;
  }

  /**
   * Runs every service's action that its limits allow, in parallel.
   *
   * @param trigger - Who asked.
   * @returns The attempts made and the refusals, by service.
   */
  async recoverAll(trigger: RecoveryTrigger = 'manual'): Promise<{ attempts: RecoveryAttempt[]; refused: RecoveryRefusedError[] }> {
    const attempts: RecoveryAttempt[] = [];
    const refused: RecoveryRefusedError[] = [];
    await Promise.all(
      this.serviceNames.map(async (service) => {
        const refusal = this.refusal(service);
        if (refusal !== undefined) refused.push(refusal);
        else attempts.push(await this.recover(service, trigger));
      }),
    );
    return { attempts, refused };
  }

  /**
   * Counters, per-service state and the recent attempts.
   *
   * @returns The stats.
   */
  stats(): RecoveryStats {
    const now = this.options.clock.now();
    const services: Record<string, ServiceRecoveryStats> = {};
    let attempts = 0;
    let successes = 0;
    for (const [name, state] of this.services) {
      attempts += state.attempts;
      successes += state.successes;
      const refusal = this.refusal(name);
      const last = state.starts.at(-1);
      services[name] = {
        attempts: state.attempts,
        successes: state.successes,
        failures: state.attempts - state.successes,
        successRate: rate(state.successes, state.attempts),
        lastAttemptAt: last === undefined ? null : new Date(last).toISOString(),
        nextAllowedAt: refusal?.retryAfterMs === undefined ? null : new Date(now + refusal.retryAfterMs).toISOString(),
        inProgress: state.inProgress,
      };
    }
    return {
      attempts,
      successes,
      failures: attempts - successes,
      successRate: rate(successes, attempts),
      services,
      recent: [...this.history],
    };
  }
}

function rate(successes: number, attempts: number): number | null {
  return attempts === 0 ? null : Math.round((successes / attempts) * 10_000) / 10_000;
}

async function runWithTimeout(timers: Timers, action: RecoveryAction, context: Omit<RecoveryContext, 'signal'>, timeoutMs: number): Promise<void> {
  const controller = new AbortController();
  let timer: unknown;
  const deadline = new Promise<never>((_, reject) => {
    timer = timers.setTimeout(() => {
      const error = new TimeoutError(`recovery of ${context.service}`, timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  const work = Promise.resolve().then(() => action({ ...context, signal: controller.signal }));
  work.catch(() => {});
  try {
    await Promise.race([work, deadline]);
  } finally {
    if (timer !== undefined) timers.clearTimeout(timer);
  }
}
