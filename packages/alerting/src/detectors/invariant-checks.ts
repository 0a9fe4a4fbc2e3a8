import type { Logger } from '@hardening/core';
import type { AlertResult } from '../alert.js';
import type { AlertSender } from '../alert-sender.js';
import { describeError } from '../delivery.js';

/**
 * An invariant: `true` (or nothing) holds; `false` or a message is a violation. Throw (or
 * reject) when it cannot be checked (its database is down, say): that is not a violation.
 *
 * @example
 * ```ts
 * import type { Invariant } from '@hardening/alerting';
 * const senderConfigured: Invariant = () => (process.env.TWILIO_FROM_NUMBER ? true : 'TWILIO_FROM_NUMBER is not set');
 * ```
 */
export type Invariant = () => boolean | string | void | Promise<boolean | string | void>;

/**
 * A violated invariant.
 *
 * @example
 * ```ts
 * const violations = await monitor.start();
 * for (const v of violations) console.error(`${v.invariant}: ${v.reason}`);
 * ```
 */
export interface InvariantViolation {
  readonly invariant: string;
  readonly reason: string;
  readonly alert: AlertResult | undefined;
}

/**
 * An invariant that could not be checked (it threw), and how many checks in a row could not.
 *
 * @example
 * ```ts
 * const { unchecked } = await monitor.verifyInvariants();
 * for (const u of unchecked) console.warn(`${u.invariant} not checked (${u.inARow} in a row): ${u.reason}`);
 * ```
 */
export interface UncheckedInvariant {
  readonly invariant: string;
  readonly reason: string;
  readonly inARow: number;
}

/**
 * What one check of every invariant found: the violated, the unchecked, and the holding.
 * Only `holding` says an invariant is fine: resolve its alert on that, never on absence
 * from `violations` (an invariant that could not be checked may still be broken).
 *
 * @example
 * ```ts
 * const report = await monitor.verifyInvariants();
 * for (const name of report.holding) await alerts.resolveAlert({ type: 'INVARIANT_VIOLATION', resourceId: name });
 * ```
 */
export interface InvariantReport {
  readonly violations: readonly InvariantViolation[];
  readonly unchecked: readonly UncheckedInvariant[];
  readonly holding: readonly string[];
}

interface Registered {
  readonly invariant: Invariant;
  uncheckedInARow: number;
  alertedUnchecked: boolean;
}

/**
 * The invariants of a {@link RuntimeMonitor}: each violation raises `INVARIANT_VIOLATION`
 * (HIGH); an invariant that throws could not be checked, which is logged, and after
 * `threshold` checks in a row raises `INVARIANT_UNCHECKED` (MEDIUM, resolved when it is
 * checked again). A database outage thus does not page as a broken invariant: the outage
 * has its own alert.
 */
export class InvariantChecks {
  private readonly registered = new Map<string, Registered>();

  constructor(
    private readonly options: { readonly monitor: string; readonly threshold: number; readonly alerts: AlertSender | undefined; readonly logger: Logger },
  ) {}

  /** Adds an invariant (a later one of the same name replaces it). */
  add(name: string, invariant: Invariant): void {
    this.registered.set(name, { invariant, uncheckedInARow: 0, alertedUnchecked: false });
  }

  /** Checks every invariant once, one after another. Never throws. */
  async run(): Promise<InvariantReport> {
    const violations: InvariantViolation[] = [];
    const unchecked: UncheckedInvariant[] = [];
    const holding: string[] = [];
    for (const [name, registered] of this.registered) {
      let verdict: Awaited<ReturnType<Invariant>>;
      try {
        verdict = await registered.invariant();
      } catch (error) {
        unchecked.push(await this.notChecked(name, registered, describeError(error)));
        continue;
      }
      await this.checked(name, registered);
      const reason = verdict === false ? 'does not hold' : typeof verdict === 'string' ? verdict : undefined;
      if (reason === undefined) holding.push(name);
      else violations.push(await this.violated(name, reason));
    }
    return { violations, unchecked, holding };
  }

  private async violated(name: string, reason: string): Promise<InvariantViolation> {
    this.options.logger.error({ invariant: name, reason }, `INVARIANT VIOLATION: ${name}: ${reason}`);
    const alert = await this.options.alerts?.sendCriticalAlert({
      type: 'INVARIANT_VIOLATION',
      severity: 'HIGH',
      resourceId: name,
      title: `Invariant violated: ${name}`,
      message: reason,
    });
    return { invariant: name, reason, alert };
  }

  private async notChecked(name: string, registered: Registered, reason: string): Promise<UncheckedInvariant> {
    const inARow = ++registered.uncheckedInARow;
    this.options.logger.warn(
      { monitor: this.options.monitor, invariant: name, reason, inARow },
      `${this.options.monitor}: invariant "${name}" could not be checked: ${reason}`,
    );
    if (inARow >= this.options.threshold && !registered.alertedUnchecked && this.options.alerts !== undefined) {
      registered.alertedUnchecked = true;
      await this.options.alerts
        .sendCriticalAlert({
          type: 'INVARIANT_UNCHECKED',
          severity: 'MEDIUM',
          resourceId: name,
          title: `Invariant not checked: ${name}`,
          message: `Could not be checked ${inARow} times in a row: ${reason}`,
        })
        .catch(() => undefined);
    }
    return { invariant: name, reason, inARow };
  }

  private async checked(name: string, registered: Registered): Promise<void> {
    registered.uncheckedInARow = 0;
    if (!registered.alertedUnchecked) return;
    registered.alertedUnchecked = false;
    await this.options.alerts
      ?.resolveAlert({ type: 'INVARIANT_UNCHECKED', resourceId: name, message: 'The invariant is checked again.' })
      .catch(() => undefined);
  }
}
