import type { Clock } from './clock.js';
import type { ResolvedBreakerOptions } from './options.js';
import type { SlidingWindow, WindowTotals } from './sliding-window.js';
import { createSlidingWindow } from './sliding-window.js';

/** Why a rule opened a closed breaker (a subset of `StateChangeReason`). */
export type OpeningReason = 'consecutive-failures' | 'failure-rate' | 'slow-call-rate';

/**
 * @internal One way a closed breaker decides to open: a strategy the breaker composes
 * (see {@link OpeningRules}). Each rule sees every counted outcome of the closed state.
 */
export interface OpeningRule {
  /** The reason reported when this rule opens the breaker. */
  readonly reason: OpeningReason;
  /**
   * Counts one outcome and says whether the breaker must open.
   *
   * @param failed - The call failed (an ignored error never gets here).
   * @param totals - The sliding window after this outcome, when the rule set keeps one and
   *   the outcome could have raised a rate (a failure or a slow call); otherwise undefined.
   */
  record(failed: boolean, totals: WindowTotals | undefined): boolean;
}

/** `threshold` failures in a row open the breaker; a success starts the count again. */
export class ConsecutiveFailuresRule implements OpeningRule {
  readonly reason = 'consecutive-failures';
  /** Failures in a row so far. */
  count = 0;

  constructor(readonly threshold: number) {}

  record(failed: boolean): boolean {
    if (!failed) {
      this.count = 0;
      return false;
    }
    return ++this.count >= this.threshold;
  }
}

/** A rate over the sliding window reaching `percent` (with `minimumCalls` in it) opens the breaker. */
abstract class RateRule implements OpeningRule {
  abstract readonly reason: OpeningReason;

  constructor(
    readonly percent: number,
    readonly minimumCalls: number,
  ) {}

  /** The calls in the window this rate counts. */
  protected abstract counted(totals: WindowTotals): number;

  record(_failed: boolean, totals: WindowTotals | undefined): boolean {
    return totals !== undefined && totals.calls >= this.minimumCalls && this.counted(totals) * 100 >= this.percent * totals.calls;
  }
}

/** The window's failure rate reaching `percent` (with `minimumCalls` in it) opens the breaker. */
export class FailureRateRule extends RateRule {
  readonly reason = 'failure-rate';

  protected counted(totals: WindowTotals): number {
    return totals.failures;
  }
}

/** The window's share of slow calls reaching `percent` (with `minimumCalls` in it) opens the breaker. */
export class SlowCallRateRule extends RateRule {
  readonly reason = 'slow-call-rate';

  protected counted(totals: WindowTotals): number {
    return totals.slowCalls;
  }
}

/**
 * @internal The rules of one breaker, built from its options: the consecutive-failure rule
 * (always there, so the count shows in snapshots even when its threshold is `Infinity`),
 * then the rate rules, which share one sliding window kept only when a rate rule is on.
 *
 * The consecutive rule is asked first and a call it trips is not added to the window
 * (the window starts empty on every transition anyway). Rate rules are asked only after a
 * failure or a slow call, the only outcomes that can raise a rate, so a fast success costs
 * one ring-buffer write.
 */
export class OpeningRules {
  private constructor(
    readonly consecutive: ConsecutiveFailuresRule,
    readonly window: SlidingWindow | undefined,
    private readonly rateRules: readonly OpeningRule[],
    private readonly clock: Clock,
  ) {}

  /**
   * Builds the rules for `options`. With `previous` (a live `configure()`), the
   * consecutive count carries over, and so does the window when its shape is unchanged.
   */
  static compose(options: ResolvedBreakerOptions, previous?: { rules: OpeningRules; options: ResolvedBreakerOptions }): OpeningRules {
    const consecutive = new ConsecutiveFailuresRule(options.failureThreshold);
    if (previous !== undefined) consecutive.count = Math.min(previous.rules.consecutive.count, options.failureThreshold - 1);
    const rateRules: OpeningRule[] = [];
    if (options.failureRateThreshold !== undefined) rateRules.push(new FailureRateRule(options.failureRateThreshold, options.minimumCalls));
    if (options.slowCallRateThreshold !== undefined) rateRules.push(new SlowCallRateRule(options.slowCallRateThreshold, options.minimumCalls));
    let window: SlidingWindow | undefined;
    if (rateRules.length > 0) {
      const sameShape = previous !== undefined && JSON.stringify(previous.options.slidingWindow) === JSON.stringify(options.slidingWindow);
      window = sameShape ? previous.rules.window : undefined;
      window ??= createSlidingWindow(options.slidingWindow);
    }
    return new OpeningRules(consecutive, window, rateRules, options.clock);
  }

  /**
   * Counts one outcome of the closed state.
   *
   * @returns The reason to open, or undefined to stay closed.
   */
  record(failed: boolean, slow: boolean): OpeningReason | undefined {
    if (this.consecutive.record(failed)) return this.consecutive.reason;
    const { window } = this;
    if (window === undefined) return undefined;
    // Reading the clock costs more than the rest of a count window's bookkeeping on some
    // hosts (Date.now was about 100 ns here under load): only a time window needs it.
    const now = window.timed ? this.clock.now() : 0;
    window.record(failed, slow, now);
    if (!failed && !slow) return undefined;
    const totals = window.totals(now);
    for (const rule of this.rateRules) if (rule.record(failed, totals)) return rule.reason;
    return undefined;
  }

  /** Forgets every count (on each state transition). */
  reset(): void {
    this.consecutive.count = 0;
    this.window?.reset();
  }
}
