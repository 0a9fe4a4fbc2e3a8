import { randomUUID } from 'node:crypto';
import type { AlertMessage } from '../alert.js';
import { deriveMessage } from '../alert-message.js';
import type { Acknowledgements } from '../acknowledgements/acknowledgements.js';
import { describeError } from '../delivery.js';
import type { AlertRuntime } from '../runtime.js';
import type { TrackedDelivery } from '../store/alert-store.js';
import type { ResolvedEscalationPolicy } from './escalation-policy.js';

const hour = 3_600_000;
const day = 24 * hour;

/**
 * The pseudo-sink under which escalation timers sit in the durable store's delivery table:
 * one row per open alert under a policy, due when its next step is; taking a due row is
 * atomic in the store, so one instance evaluates it.
 */
export const escalationSink = 'alerting.escalation';

/** The internal claim type that makes each step fire once fleet-wide. */
const stepClaimType = 'alerting.escalation-step';

/** What an escalation timer stores. */
interface EscalationTimer {
  readonly message: AlertMessage;
  /** When the alert was first raised since it was last resolved (epoch ms): steps count from here. */
  readonly firstSeenAt: number;
}

/** What the {@link Escalator} needs besides the runtime. */
export interface EscalatorOptions {
  /** The default policy of the store (MEDIUM to HIGH after this long), or `false`. */
  readonly escalateAfterMs: number | false;
  /** An alert not raised again for this long is not escalated by the default policy. */
  readonly staleAfterMs: number;
  /** The service's configured policy (`undefined`: the default policy). */
  readonly policy: ResolvedEscalationPolicy | false | undefined;
  /** Per-type configured policies (`false`: this type never escalates). */
  readonly typePolicies: Readonly<Record<string, ResolvedEscalationPolicy | false>>;
  readonly acks: Acknowledgements;
}

function timerId(type: string, key: string): string {
  return `escalation:${encodeURIComponent(type)}:${encodeURIComponent(key)}`;
}

/**
 * Escalation of unacknowledged, unresolved alerts.
 *
 * - **Configured policies** (`escalation` in the options, per type or for the service):
 *   when an alert is delivered, a timer for its next step goes into the durable store.
 *   The maintenance round of whichever instance takes the due timer fires every step now
 *   due, each claimed in the store per (alert, step) so it fires once fleet-wide, then
 *   re-arms the timer for the next step. Acknowledging or resolving the alert settles the
 *   timer; an acknowledgement is checked again before each step.
 * - **The default policy** (no `escalation` configured): a MEDIUM alert unresolved for
 *   `escalateAfterMs` and raised again within `staleAfterMs` is escalated to HIGH once
 *   (the store marks it, so later occurrences go out as HIGH); skipped when acknowledged.
 */
export class Escalator {
  constructor(
    private readonly runtime: AlertRuntime,
    private readonly options: EscalatorOptions,
  ) {}

  /** The configured policy of a type (`false`: never escalates; `undefined`: the default policy). */
  private policyFor(type: string): ResolvedEscalationPolicy | false | undefined {
    return Object.hasOwn(this.options.typePolicies, type) ? this.options.typePolicies[type] : this.options.policy;
  }

  /**
   * An alert was delivered: arm its policy's timer (re-arming the same alert is harmless:
   * steps already fired are claimed and skipped).
   *
   * @param message - The alert delivered.
   * @param firstSeenAt - First raised since it was last resolved (epoch ms).
   * @param now - Current time.
   */
  async start(message: AlertMessage, firstSeenAt: number, now: number): Promise<void> {
    const policy = this.policyFor(message.type);
    if (policy === undefined || policy === false || !policy.severities.includes(message.severity) || message.type.startsWith('ALERTING_')) return;
    if (this.options.acks.has(message.type, message.key)) return;
    const timer: EscalationTimer = { message, firstSeenAt };
    await this.arm(timer, policy, now).catch((error) =>
      this.runtime.logger.warn(
        { type: message.type, err: describeError(error) },
        'alerting: could not arm the escalation timer (store unavailable); this alert will not escalate',
      ),
    );
  }

  /**
   * Stops an alert's escalation (acknowledged or resolved).
   *
   * @param type - Alert type.
   * @param key - Alert key.
   * @param now - Current time.
   */
  async stop(type: string, key: string, now: number): Promise<void> {
    await this.runtime
      .durableCall(() => this.runtime.durable.settleDelivery({ deliveryId: timerId(type, key), status: 'delivered', at: now }))
      .catch(() => undefined);
  }

  /**
   * A due timer taken from the store by this instance: fires the steps now due, then re-arms.
   *
   * @param delivery - The timer row.
   * @param now - Current time.
   * @returns How many steps fired here.
   */
  async fire(delivery: TrackedDelivery, now: number): Promise<number> {
    const timer = JSON.parse(delivery.payload) as EscalationTimer;
    const { message } = timer;
    const policy = this.policyFor(message.type);
    if (policy === undefined || policy === false) return 0;
    if (this.options.acks.has(message.type, message.key)) return 0;
    let fired = 0;
    try {
      fired = await this.fireDue(timer, policy, now);
    } catch (error) {
      // The timer was taken from the store: put it back (due in a minute) so a failed
      // step is tried again rather than lost; a step that did fire is claimed and skipped.
      await this.runtime
        .durableCall(() => this.runtime.durable.trackDelivery({ ...delivery, status: 'pending', deadlineAt: now + 60_000 }))
        .catch(() => this.runtime.logger.error({ type: message.type }, `alerting: escalation timer of ${message.type} lost (store unavailable)`));
      throw error;
    }
    await this.arm(timer, policy, now);
    return fired;
  }

  /** Fires every step due now that no instance fired yet. */
  private async fireDue(timer: EscalationTimer, policy: ResolvedEscalationPolicy, now: number): Promise<number> {
    const { message, firstSeenAt } = timer;
    let fired = 0;
    for (const [index, step] of policy.steps.entries()) {
      if (firstSeenAt + step.afterMs > now) break;
      const claim = await this.runtime.storeCall('primary', () =>
        this.runtime.store.claim({
          alertId: randomUUID(),
          type: stepClaimType,
          // PostgreSQL text cannot hold NUL: the parts are URI-encoded and joined with '/'.
          key: [message.type, message.key, String(firstSeenAt), String(index)].map(encodeURIComponent).join('/'),
          resourceId: undefined,
          severity: 'LOW',
          title: 'escalation step',
          payload: '{}',
          now,
          windowMs: step.afterMs + 7 * day,
        }),
      );
      if (!claim.claimed) continue;
      fired++;
      await this.send(message, firstSeenAt, index, policy, now);
    }
    return fired;
  }

  /**
   * The default policy: MEDIUM alerts unresolved for `escalateAfterMs` become HIGH (from
   * the store's candidates), once fleet-wide.
   *
   * @param now - Current time.
   * @returns How many alerts were escalated here.
   */
  async escalateDefault(now: number): Promise<number> {
    const { runtime, options } = this;
    const delayOf = (type: string): number | false => {
      if (this.policyFor(type) !== undefined) return false; // a configured policy owns this type
      return runtime.types[type]?.escalateAfterMs ?? options.escalateAfterMs;
    };
    const delays = Object.keys(runtime.types)
      .map(delayOf)
      .filter((d): d is number => typeof d === 'number');
    if (options.escalateAfterMs !== false && options.policy === undefined) delays.push(options.escalateAfterMs);
    if (delays.length === 0) return 0;
    const candidates = await runtime.storeCall('primary', () =>
      runtime.store.escalationCandidates({ firstSeenBefore: now - Math.min(...delays), lastSeenAfter: now - options.staleAfterMs, limit: 100 }),
    );
    let count = 0;
    for (const candidate of candidates) {
      const after = delayOf(candidate.type);
      if (after === false || now - candidate.firstSeenAt < after) continue;
      if (options.acks.has(candidate.type, candidate.key)) continue;
      if (
        !(await runtime.storeCall('primary', () =>
          runtime.store.claimEscalation({ type: candidate.type, key: candidate.key, alertId: candidate.alertId, at: now }),
        ))
      )
        continue;
      count++;
      const original = JSON.parse(candidate.payload) as AlertMessage;
      const hours = Math.round(((now - candidate.firstSeenAt) / hour) * 10) / 10;
      const message = deriveMessage(original, {
        kind: 'escalation',
        severity: 'HIGH',
        message: `Unresolved for ${hours} h (raised ${candidate.occurrences} times). ${original.message}`,
        occurredAt: new Date(now).toISOString(),
      });
      const report = await runtime.deliverer.deliver(message, runtime.routeOf('HIGH', candidate.type), runtime.fallbackOrder);
      runtime.noteReport(report, now);
      if (report.ok) {
        await runtime
          .storeCall('primary', () =>
            runtime.store.markDelivered({ type: candidate.type, key: candidate.key, alertId: candidate.alertId, at: now, sinks: report.delivered }),
          )
          .catch(() => undefined);
      }
      runtime.record({
        alertId: candidate.alertId,
        type: candidate.type,
        key: candidate.key,
        resourceId: candidate.resourceId,
        severity: 'HIGH',
        outcome: 'escalated',
        sinks: report.delivered,
        detail: `MEDIUM unresolved for ${hours} h${report.ok ? '' : '; every remote sink failed'}`,
        at: now,
      });
    }
    return count;
  }

  /** Puts the timer in the store, due at the next step not yet due (or nowhere after the last). */
  private async arm(timer: EscalationTimer, policy: ResolvedEscalationPolicy, now: number): Promise<void> {
    const next = policy.steps.find((step) => timer.firstSeenAt + step.afterMs > now);
    if (next === undefined) return;
    const { message } = timer;
    await this.runtime.durableCall(() =>
      this.runtime.durable.trackDelivery({
        deliveryId: timerId(message.type, message.key),
        alertId: message.id,
        type: message.type,
        key: message.key,
        sink: escalationSink,
        status: 'pending',
        payload: JSON.stringify(timer),
        sentAt: now,
        deadlineAt: timer.firstSeenAt + next.afterMs,
      }),
    );
  }

  private async send(original: AlertMessage, firstSeenAt: number, index: number, policy: ResolvedEscalationPolicy, now: number): Promise<void> {
    const { runtime } = this;
    const step = policy.steps[index]!;
    const minutes = Math.round((now - firstSeenAt) / 60_000);
    const message = deriveMessage(original, {
      kind: 'escalation',
      severity: step.severity,
      message: `Not acknowledged or resolved for ${minutes} min (escalation step ${index + 1} of ${policy.steps.length}). ${original.message}`,
      occurredAt: new Date(now).toISOString(),
    });
    const route = step.sinks ?? runtime.routeOf(step.severity, original.type);
    const report = await runtime.deliverer.deliver(message, route, runtime.fallbackOrder);
    runtime.noteReport(report, now);
    runtime.record({
      alertId: original.id,
      type: original.type,
      key: original.key,
      resourceId: original.resourceId,
      severity: step.severity,
      outcome: 'escalated',
      sinks: report.delivered,
      detail: `policy step ${index + 1} of ${policy.steps.length} after ${minutes} min${report.ok ? '' : '; every remote sink failed'}`,
      at: now,
    });
  }
}
