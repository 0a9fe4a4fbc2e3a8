import type { AlertResult, Severity } from '../alert.js';
import type { AlertSender } from '../alert-sender.js';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';

/**
 * A time as the data source has it.
 *
 * @example
 * ```ts
 * import type { TimeLike } from '@hardening/alerting';
 * const entered: TimeLike = '2026-03-01T10:00:00Z'; // or a Date, or epoch ms
 * ```
 */
export type TimeLike = Date | number | string;

/**
 * An entity with a state, as the data source returns it (a row of your onboarding table,
 * say). Return every entity in a watched state, and also those whose `stuckDetectedAt` is
 * set, so recovery is noticed.
 *
 * @example
 * ```ts
 * import type { TrackedEntity } from '@hardening/alerting';
 * const entity: TrackedEntity = { id: 'client_42', state: 'PROVISIONING', enteredAt: new Date(), label: 'Acme Plumbing' };
 * ```
 */
export interface TrackedEntity {
  /** Its id: the alert's resource. */
  readonly id: string;
  /** Its current state. */
  readonly state: string;
  /** When it entered `state`. */
  readonly enteredAt: TimeLike;
  /** When it was last found stuck (what `markDetected` stored), if ever. */
  readonly stuckDetectedAt?: TimeLike | null | undefined;
  /** A name for people (`Acme Plumbing`). @default the id */
  readonly label?: string | undefined;
}

/**
 * An entity found stuck.
 *
 * @example
 * ```ts
 * for (const entity of await detector.detect()) console.log(entity.id, entity.state, entity.severity, entity.terminal);
 * ```
 */
export interface StuckEntity {
  readonly id: string;
  readonly label: string;
  readonly state: string;
  /** Epoch ms. */
  readonly enteredAt: number;
  /** How long it has been in the state. */
  readonly dwellMs: number;
  /** The state's maximum dwell time. */
  readonly maxDwellMs: number;
  /** `dwellMs / maxDwellMs` (Infinity for a terminal state with no maximum). */
  readonly overBy: number;
  /** LOW below 2x the maximum, MEDIUM below 4x, HIGH from 4x and for terminal states. */
  readonly severity: Severity;
  /** Whether the state is terminal: the entity will never leave it on its own. */
  readonly terminal: boolean;
}

/**
 * What {@link StuckStateDetector.check} did.
 *
 * @example
 * ```ts
 * const { stuck, alerted, recovered } = await detector.check();
 * ```
 */
export interface StuckCheckReport {
  /** Every stuck entity found. */
  readonly stuck: readonly StuckEntity[];
  /** Those alerted now (the others were alerted within the re-alert window). */
  readonly alerted: readonly StuckEntity[];
  /** Ids no longer stuck whose alert was resolved. */
  readonly recovered: readonly string[];
  /** The alert results, in the order of `alerted`. */
  readonly results: readonly AlertResult[];
}

/**
 * Options for {@link StuckStateDetector}.
 *
 * @example
 * ```ts
 * import type { StuckStateDetectorOptions } from '@hardening/alerting';
 * const options: StuckStateDetectorOptions = {
 *   source: () => prisma.client.findMany({ where: { OR: [{ state: { in: ['PROVISIONING', 'AWAITING_PAYMENT', 'FAILED'] } }, { stuckDetectedAt: { not: null } }] } }),
 *   maxDwellMs: { PROVISIONING: 30 * 60_000, AWAITING_PAYMENT: 24 * 3_600_000 },
 *   terminalStates: ['FAILED'],
 *   markDetected: (entities, at) => prisma.client.updateMany({ where: { id: { in: entities.map((e) => e.id) } }, data: { stuckDetectedAt: at } }),
 *   markRecovered: (ids) => prisma.client.updateMany({ where: { id: { in: ids } }, data: { stuckDetectedAt: null } }),
 *   alerts,
 * };
 * ```
 */
export interface StuckStateDetectorOptions {
  /** Returns the entities to examine (Prisma, SQL, memory: any callback). */
  readonly source: () => Iterable<TrackedEntity> | Promise<Iterable<TrackedEntity>>;
  /** Maximum dwell time per state (typically 30 minutes to 24 hours). States not listed (and not terminal) are not watched. */
  readonly maxDwellMs: Readonly<Record<string, number>>;
  /**
   * States an entity never leaves on its own (`FAILED`, `PAYMENT_DECLINED`): stuck once
   * their maximum dwell (0 when not listed) has passed, always HIGH.
   * @default []
   */
  readonly terminalStates?: readonly string[];
  /**
   * An entity is re-alerted at most once per this window.
   * @default 21_600_000 (6 hours)
   */
  readonly realertAfterMs?: number;
  /** Stores `stuckDetectedAt` (recommended: then the window holds across restarts and instances). */
  readonly markDetected?: (entities: readonly StuckEntity[], at: Date) => unknown;
  /** Clears `stuckDetectedAt` of entities no longer stuck. */
  readonly markRecovered?: (ids: readonly string[], at: Date) => unknown;
  /** Where alerts go; without it, {@link StuckStateDetector.check} only reports. */
  readonly alerts?: AlertSender;
  /**
   * Alert type.
   * @default 'STUCK_STATE'
   */
  readonly alertType?: string;
  /**
   * What the entities are, for alert titles (`client`, `order`).
   * @default 'entity'
   */
  readonly entityName?: string;
  /**
   * Current time.
   * @default Date.now
   */
  readonly clock?: Clock;
}

const defaults = { realertAfterMs: 6 * 3_600_000, alertType: 'STUCK_STATE', entityName: 'entity' };

function toMs(value: TimeLike | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * `1 h 30 min`, `45 min`, `2 d 3 h`: a duration for people.
 *
 * @param ms - Milliseconds.
 * @returns The duration in words.
 *
 * @example
 * ```ts
 * import { humanDuration } from '@hardening/alerting';
 * humanDuration(90 * 60_000); // '1 h 30 min'
 * ```
 */
export function humanDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'ever';
  const minutes = Math.floor(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  if (days > 0) return `${days} d${hours > 0 ? ` ${hours} h` : ''}`;
  if (hours > 0) return `${hours} h${rest > 0 ? ` ${rest} min` : ''}`;
  return `${minutes} min`;
}

/**
 * Finds entities stuck in a state longer than allowed: severity by how far past the
 * maximum (LOW under 2x, MEDIUM under 4x, HIGH from 4x), terminal states flagged (and
 * HIGH). {@link StuckStateDetector.check} alerts each at most once per re-alert window
 * (`stuckDetectedAt`, stored through `markDetected`) and resolves the alert when the
 * entity moves on. Register `check` with a {@link RuntimeMonitor}.
 *
 * @example
 * ```ts
 * import { StuckStateDetector } from '@hardening/alerting';
 * const stuck = new StuckStateDetector({
 *   source: () => db.clients.inStates(['PROVISIONING', 'FAILED']),
 *   maxDwellMs: { PROVISIONING: 30 * 60_000 },
 *   terminalStates: ['FAILED'],
 *   alerts,
 *   entityName: 'client',
 * });
 * monitor.register('stuck-clients', () => stuck.check());
 * ```
 */
export class StuckStateDetector {
  private readonly options: StuckStateDetectorOptions;
  private readonly terminal: ReadonlySet<string>;
  private readonly realertAfterMs: number;
  private readonly clock: Clock;
  /** When each entity was last alerted (for sources that do not store `stuckDetectedAt`). */
  private readonly detected = new Map<string, { at: number; state: string }>();

  /**
   * @param options - See {@link StuckStateDetectorOptions}.
   * @throws TypeError for a missing source or a bad dwell time.
   */
  constructor(options: StuckStateDetectorOptions) {
    if (typeof options?.source !== 'function') throw new TypeError('Expected `source` to be a function returning entities.');
    if (typeof options.maxDwellMs !== 'object' || options.maxDwellMs === null) throw new TypeError('Expected `maxDwellMs` to map states to milliseconds.');
    for (const [state, ms] of Object.entries(options.maxDwellMs)) {
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
        throw new TypeError(`Expected \`maxDwellMs.${state}\` to be a non-negative number of milliseconds, got ${String(ms)}.`);
    }
    const realertAfterMs = options.realertAfterMs ?? defaults.realertAfterMs;
    if (!Number.isFinite(realertAfterMs) || realertAfterMs <= 0)
      throw new TypeError(`Expected \`realertAfterMs\` to be a positive number, got ${String(realertAfterMs)}.`);
    this.options = options;
    this.terminal = new Set(options.terminalStates ?? []);
    this.realertAfterMs = realertAfterMs;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * The stuck entities, without alerting or recording anything.
   *
   * @returns Stuck entities, most overdue first.
   */
  async detect(): Promise<StuckEntity[]> {
    const now = this.clock.now();
    const out: StuckEntity[] = [];
    for (const entity of await this.options.source()) {
      const stuck = this.assess(entity, now);
      if (stuck !== undefined) out.push(stuck);
    }
    return out.sort((a, b) => b.overBy - a.overBy);
  }

  /**
   * Detects, alerts each stuck entity not alerted within the re-alert window, records
   * `stuckDetectedAt`, and resolves the alerts of entities that moved on.
   *
   * @returns What was found and done.
   */
  async check(): Promise<StuckCheckReport> {
    const now = this.clock.now();
    const entities = [...(await this.options.source())];
    const stuck: StuckEntity[] = [];
    const due: StuckEntity[] = [];
    const recovered: string[] = [];
    const superseded: string[] = [];
    for (const entity of entities) {
      const found = this.assess(entity, now);
      const storedAt = toMs(entity.stuckDetectedAt);
      const local = this.detected.get(entity.id);
      const lastAt = Math.max(storedAt ?? -Infinity, local?.state === entity.state ? local.at : -Infinity);
      // A detection from before the entity entered its current state belongs to the old state.
      const previous = lastAt >= (toMs(entity.enteredAt) ?? 0) ? lastAt : undefined;
      if (found === undefined) {
        if (storedAt !== undefined || local !== undefined) recovered.push(entity.id);
        continue;
      }
      stuck.push(found);
      // Detected before, in the state it has since left: that alert is over, this is a new one.
      if (previous === undefined && lastAt !== -Infinity) superseded.push(entity.id);
      if (previous === undefined || now - previous >= this.realertAfterMs) due.push(found);
    }
    const results: AlertResult[] = [];
    const { alerts } = this.options;
    const type = this.options.alertType ?? defaults.alertType;
    for (const id of recovered) {
      this.detected.delete(id);
      if (alerts !== undefined) await alerts.resolveAlert({ type, resourceId: id, message: 'It moved on.' });
    }
    if (recovered.length > 0) await this.options.markRecovered?.(recovered, new Date(now));
    for (const id of superseded) {
      if (alerts !== undefined) await alerts.resolveAlert({ type, resourceId: id, message: 'It moved to another state.' });
    }
    for (const entity of due) this.detected.set(entity.id, { at: now, state: entity.state });
    // All at once: with aggregation on the type, a burst then goes out as one message.
    if (alerts !== undefined) results.push(...(await Promise.all(due.map((entity) => alerts.sendCriticalAlert(this.alertFor(entity))))));
    if (due.length > 0) await this.options.markDetected?.(due, new Date(now));
    return { stuck, alerted: due, recovered, results };
  }

  private assess(entity: TrackedEntity, now: number): StuckEntity | undefined {
    const terminal = this.terminal.has(entity.state);
    const limit = this.options.maxDwellMs[entity.state] ?? (terminal ? 0 : undefined);
    const enteredAt = toMs(entity.enteredAt);
    if (limit === undefined || enteredAt === undefined) return undefined;
    const dwellMs = now - enteredAt;
    if (dwellMs < limit || (dwellMs === limit && !terminal)) return undefined;
    const overBy = limit === 0 ? Infinity : dwellMs / limit;
    const severity: Severity = terminal || overBy >= 4 ? 'HIGH' : overBy >= 2 ? 'MEDIUM' : 'LOW';
    return { id: entity.id, label: entity.label ?? entity.id, state: entity.state, enteredAt, dwellMs, maxDwellMs: limit, overBy, severity, terminal };
  }

  private alertFor(entity: StuckEntity) {
    const name = this.options.entityName ?? defaults.entityName;
    const limit = entity.maxDwellMs > 0 ? ` (limit ${humanDuration(entity.maxDwellMs)})` : '';
    return {
      type: this.options.alertType ?? defaults.alertType,
      severity: entity.severity,
      resourceId: entity.id,
      title: `${name} ${entity.label} stuck in ${entity.state} for ${humanDuration(entity.dwellMs)}`,
      message: entity.terminal
        ? `${entity.state} is a terminal state: it will not leave it on its own. Entered ${new Date(entity.enteredAt).toISOString()}${limit}.`
        : `In ${entity.state} since ${new Date(entity.enteredAt).toISOString()}${limit}.`,
      context: {
        id: entity.id,
        state: entity.state,
        enteredAt: new Date(entity.enteredAt).toISOString(),
        dwellMs: entity.dwellMs,
        maxDwellMs: entity.maxDwellMs,
        terminal: entity.terminal,
      },
    };
  }
}
