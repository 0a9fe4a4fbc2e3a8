import type { AlertInput, AlertResult, Severity } from '../alert.js';
import type { AlertSender } from '../alert-sender.js';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';

/**
 * Options for {@link ErrorRateCounter}.
 *
 * @example
 * ```ts
 * import type { ErrorRateCounterOptions } from '@hardening/alerting';
 * const options: ErrorRateCounterOptions = { alerts, threshold: 50, windowMs: 5 * 60_000, alertType: 'WEBHOOK_ERROR_RATE' };
 * ```
 */
export interface ErrorRateCounterOptions {
  /** Where the rate alert goes; without it the counter only counts. */
  readonly alerts?: AlertSender;
  /**
   * Errors within the window that raise the alert.
   * @default 20
   */
  readonly threshold?: number;
  /**
   * The sliding window.
   * @default 300_000 (5 minutes)
   */
  readonly windowMs?: number;
  /**
   * Alert type.
   * @default 'ERROR_RATE'
   */
  readonly alertType?: string;
  /**
   * Alert severity.
   * @default 'HIGH'
   */
  readonly severity?: Severity;
  /**
   * Current time.
   * @default Date.now
   */
  readonly clock?: Clock;
}

const defaults = { threshold: 20, windowMs: 5 * 60_000, alertType: 'ERROR_RATE', severity: 'HIGH' as Severity };

/**
 * Counts errors per category over a sliding window and raises one alert (per category and
 * suppression window) when the count reaches the threshold: for rate-based alerts such as
 * "more than 20 webhook errors in 5 minutes".
 *
 * @example
 * ```ts
 * import { ErrorRateCounter } from '@hardening/alerting';
 * const errors = new ErrorRateCounter({ alerts, threshold: 20, windowMs: 5 * 60_000 });
 * app.use((err, req, res, next) => { void errors.record('http'); next(err); });
 * ```
 */
export class ErrorRateCounter {
  private readonly windows = new Map<string, number[]>();
  private readonly alerted = new Map<string, number>();
  private readonly alerts: AlertSender | undefined;
  private readonly threshold: number;
  private readonly windowMs: number;
  private readonly alertType: string;
  private readonly severity: Severity;
  private readonly clock: Clock;

  /**
   * @param options - See {@link ErrorRateCounterOptions}.
   * @throws TypeError for a bad threshold or window.
   */
  constructor(options: ErrorRateCounterOptions = {}) {
    const { threshold = defaults.threshold, windowMs = defaults.windowMs } = options;
    if (!Number.isInteger(threshold) || threshold < 1) throw new TypeError(`Expected \`threshold\` to be a positive integer, got ${String(threshold)}.`);
    if (!Number.isFinite(windowMs) || windowMs <= 0) throw new TypeError(`Expected \`windowMs\` to be a positive number, got ${String(windowMs)}.`);
    this.alerts = options.alerts;
    this.threshold = threshold;
    this.windowMs = windowMs;
    this.alertType = options.alertType ?? defaults.alertType;
    this.severity = options.severity ?? defaults.severity;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Counts one error; raises the alert when the window's count reaches the threshold.
   *
   * @param category - What kind of error (`http`, `stripe-webhook`): one count and alert per category.
   * @returns The count in the window, and the alert's result when this error raised it.
   */
  async record(category = 'default'): Promise<{ count: number; alert?: AlertResult }> {
    const now = this.clock.now();
    const count = this.push(category, now);
    if (count < this.threshold || this.alerts === undefined) return { count };
    const last = this.alerted.get(category);
    if (last !== undefined && now - last < this.windowMs) return { count };
    this.alerted.set(category, now);
    const input: AlertInput = {
      type: this.alertType,
      severity: this.severity,
      resourceId: category,
      title: `${count} ${category} errors in ${Math.round(this.windowMs / 60_000)} min`,
      message: `The ${category} error rate reached ${count} within ${Math.round(this.windowMs / 1000)} s (threshold ${this.threshold}).`,
      context: { category, count, windowMs: this.windowMs, threshold: this.threshold },
    };
    return { count, alert: await this.alerts.sendCriticalAlert(input) };
  }

  /**
   * Errors of a category within the window.
   *
   * @param category - The category.
   * @returns The count.
   */
  count(category = 'default'): number {
    return this.trim(category, this.clock.now()).length;
  }

  private push(category: string, now: number): number {
    const list = this.trim(category, now);
    list.push(now);
    return list.length;
  }

  private trim(category: string, now: number): number[] {
    let list = this.windows.get(category);
    if (list === undefined) {
      list = [];
      this.windows.set(category, list);
    }
    let drop = 0;
    while (drop < list.length && list[drop]! <= now - this.windowMs) drop++;
    if (drop > 0) list.splice(0, drop);
    return list;
  }
}
