import type { AlertResult, Severity } from '../alert.js';
import type { AlertSender } from '../alert-sender.js';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { describeError } from '../delivery.js';

/**
 * Per-operation settings of a {@link FailureTracker}.
 *
 * @example
 * ```ts
 * const tracker = new FailureTracker({ alerts, operations: { stripe: { threshold: 3, windowMs: 10 * 60_000, severity: 'HIGH', alertType: 'STRIPE_DOWN' } } });
 * ```
 */
export interface FailureRule {
  /**
   * Consecutive failures, within the window, that raise the alert.
   * @default 5
   */
  readonly threshold?: number | undefined;
  /**
   * Failures older than this no longer count.
   * @default 900_000 (15 minutes)
   */
  readonly windowMs?: number | undefined;
  /**
   * Alert severity.
   * @default 'HIGH'
   */
  readonly severity?: Severity | undefined;
  /**
   * Alert type.
   * @default `${OPERATION}_FAILURE` (e.g. `OPENAI_FAILURE` for `openai`)
   */
  readonly alertType?: string | undefined;
}

/**
 * Options for {@link FailureTracker}.
 *
 * @example
 * ```ts
 * import type { FailureTrackerOptions } from '@hardening/alerting';
 * const options: FailureTrackerOptions = { alerts, operations: { openai: { threshold: 5, windowMs: 15 * 60_000 }, stripe: { threshold: 3 } } };
 * ```
 */
export interface FailureTrackerOptions extends FailureRule {
  /** Where the alerts go. */
  readonly alerts: AlertSender;
  /** Settings per operation (others use the defaults above). */
  readonly operations?: Readonly<Record<string, FailureRule>>;
  /**
   * Send a resolve notice when an operation that raised an alert succeeds again.
   * @default true
   */
  readonly resolveOnRecovery?: boolean;
  /**
   * Current time.
   * @default Date.now
   */
  readonly clock?: Clock;
}

/**
 * Where an operation stands.
 *
 * @example
 * ```ts
 * const { consecutiveFailures, alerted } = tracker.state('openai');
 * ```
 */
export interface FailureState {
  /** Failures since the last success, within the window. */
  readonly consecutiveFailures: number;
  /** Whether this streak already raised its alert. */
  readonly alerted: boolean;
  /** The first failure of the streak still in the window (epoch ms). */
  readonly since: number | undefined;
}

const defaults = { threshold: 5, windowMs: 15 * 60_000, severity: 'HIGH' as Severity };

/** A {@link FailureRule} with every default applied. */
interface ResolvedRule {
  readonly threshold: number;
  readonly windowMs: number;
  readonly severity: Severity;
  readonly alertType: string;
}

interface Streak {
  failures: number[];
  alerted: boolean;
  lastError: string | undefined;
}

function checkRule(rule: FailureRule, where: string): void {
  if (rule.threshold !== undefined && (!Number.isInteger(rule.threshold) || rule.threshold < 1)) {
    throw new TypeError(`Expected \`${where}threshold\` to be a positive integer, got ${String(rule.threshold)}.`);
  }
  if (rule.windowMs !== undefined && (!Number.isFinite(rule.windowMs) || rule.windowMs <= 0)) {
    throw new TypeError(`Expected \`${where}windowMs\` to be a positive number, got ${String(rule.windowMs)}.`);
  }
}

/**
 * Raises one alert when an operation fails N times in a row within a window (e.g.
 * `OPENAI_FAILURE` after 5 failures in 15 minutes); a success resets the count (and,
 * when the alert went out, sends its resolve notice).
 *
 * @example
 * ```ts
 * import { FailureTracker } from '@hardening/alerting';
 * const failures = new FailureTracker({ alerts, operations: { openai: { threshold: 5, windowMs: 15 * 60_000 } } });
 * const reply = await failures.track('openai', () => openai.chat.completions.create(request));
 * ```
 */
export class FailureTracker {
  private readonly streaks = new Map<string, Streak>();
  private readonly alerts: AlertSender;
  private readonly base: Omit<ResolvedRule, 'alertType'> & { readonly alertType: string | undefined };
  private readonly operations: Readonly<Record<string, FailureRule>>;
  private readonly resolveOnRecovery: boolean;
  private readonly clock: Clock;

  /**
   * @param options - See {@link FailureTrackerOptions}.
   * @throws TypeError for a bad threshold or window, or a missing `alerts`.
   */
  constructor(options: FailureTrackerOptions) {
    if (typeof options?.alerts?.sendCriticalAlert !== 'function') throw new TypeError('Expected `alerts` to be an AlertService.');
    checkRule(options, '');
    for (const [name, rule] of Object.entries(options.operations ?? {})) checkRule(rule, `operations.${name}.`);
    this.alerts = options.alerts;
    this.base = {
      threshold: options.threshold ?? defaults.threshold,
      windowMs: options.windowMs ?? defaults.windowMs,
      severity: options.severity ?? defaults.severity,
      alertType: options.alertType,
    };
    this.operations = options.operations ?? {};
    this.resolveOnRecovery = options.resolveOnRecovery ?? true;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Counts a failure; raises the alert when this one completes the streak.
   *
   * @param operation - The operation (`openai`, `stripe_refund`).
   * @param error - What it failed with (scrubbed into the alert).
   * @returns The alert's result when this failure raised it.
   */
  async recordFailure(operation: string, error?: unknown): Promise<AlertResult | undefined> {
    const rule = this.ruleFor(operation);
    const now = this.clock.now();
    const streak = this.streakFor(operation);
    streak.failures.push(now);
    while (streak.failures.length > 0 && streak.failures[0]! <= now - rule.windowMs) streak.failures.shift();
    if (error !== undefined) streak.lastError = describeError(error);
    if (streak.alerted || streak.failures.length < rule.threshold) return undefined;
    streak.alerted = true;
    const minutes = Math.round(rule.windowMs / 60_000);
    return this.alerts.sendCriticalAlert({
      type: rule.alertType,
      severity: rule.severity,
      resourceId: operation,
      title: `${operation}: ${streak.failures.length} consecutive failures in ${minutes} min`,
      message: `${operation} failed ${streak.failures.length} times in a row within ${minutes} minutes.${streak.lastError !== undefined ? ` Last error: ${streak.lastError}` : ''}`,
      context: { operation, consecutiveFailures: streak.failures.length, windowMs: rule.windowMs, lastError: streak.lastError },
    });
  }

  /**
   * Counts a success: the streak ends; a raised alert is resolved (with `resolveOnRecovery`).
   *
   * @param operation - The operation.
   * @returns The resolve's result when an alert was resolved.
   */
  async recordSuccess(operation: string): Promise<AlertResult | undefined> {
    const streak = this.streaks.get(operation);
    if (streak === undefined) return undefined;
    this.streaks.delete(operation);
    if (!streak.alerted || !this.resolveOnRecovery) return undefined;
    return this.alerts.resolveAlert({ type: this.ruleFor(operation).alertType, resourceId: operation, message: `${operation} succeeds again.` });
  }

  /**
   * Runs `fn`, counting its outcome; returns or throws what it does.
   *
   * @param operation - The operation.
   * @param fn - The work.
   * @returns What `fn` returns.
   * @throws What `fn` throws.
   */
  async track<T>(operation: string, fn: () => Promise<T> | T): Promise<T> {
    let value: T;
    try {
      value = await fn();
    } catch (error) {
      await this.recordFailure(operation, error);
      throw error;
    }
    await this.recordSuccess(operation);
    return value;
  }

  /**
   * Where an operation stands.
   *
   * @param operation - The operation.
   * @returns Its streak.
   */
  state(operation: string): FailureState {
    const streak = this.streaks.get(operation);
    if (streak === undefined) return { consecutiveFailures: 0, alerted: false, since: undefined };
    const now = this.clock.now();
    const live = streak.failures.filter((at) => at > now - this.ruleFor(operation).windowMs);
    return { consecutiveFailures: live.length, alerted: streak.alerted, since: live[0] };
  }

  private ruleFor(operation: string): ResolvedRule {
    const own = this.operations[operation] ?? {};
    return {
      threshold: own.threshold ?? this.base.threshold,
      windowMs: own.windowMs ?? this.base.windowMs,
      severity: own.severity ?? this.base.severity,
      alertType: own.alertType ?? this.base.alertType ?? `${operation.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_FAILURE`,
    };
  }

  private streakFor(operation: string): Streak {
    let streak = this.streaks.get(operation);
    if (streak === undefined) {
      streak = { failures: [], alerted: false, lastError: undefined };
      this.streaks.set(operation, streak);
    }
    return streak;
  }
}
