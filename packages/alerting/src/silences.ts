import { randomUUID } from 'node:crypto';
import type { AlertMessage, Severity } from './alert.js';
import { severities } from './alert.js';

/**
 * Which alerts a silence mutes. Every field given must match; an empty matcher (or none)
 * mutes everything.
 *
 * @example
 * ```ts
 * import type { SilenceMatcher } from '@hardening/alerting';
 * const openAiNoise: SilenceMatcher = { type: /^OPENAI_/, severity: ['LOW', 'MEDIUM'] };
 * ```
 */
export interface SilenceMatcher {
  /** An alert type, a list of them, or a pattern. */
  readonly type?: string | readonly string[] | RegExp;
  /** A resource id, or a list of them. */
  readonly resourceId?: string | readonly string[];
  /** A severity, or a list of them. */
  readonly severity?: Severity | readonly Severity[];
}

/**
 * Options for {@link AlertService.silenceAlerts}.
 *
 * @example
 * ```ts
 * import type { SilenceOptions } from '@hardening/alerting';
 * const maintenance: SilenceOptions = { durationMs: 30 * 60_000, reason: 'Twilio maintenance window' };
 * ```
 */
export interface SilenceOptions {
  /** When the silence ends (a Date or epoch ms). Overrides `durationMs`. */
  readonly until?: Date | number;
  /**
   * How long the silence lasts, from now.
   * @default 3_600_000 (1 hour)
   */
  readonly durationMs?: number;
  /** Why: shown in the status and logged. */
  readonly reason?: string;
}

/**
 * A silence as reported by {@link AlertService.getAlertSystemStatus}.
 *
 * @example
 * ```ts
 * for (const silence of alerts.getAlertSystemStatus().silences) console.log(`${silence.matcher} until ${silence.until}`);
 * ```
 */
export interface SilenceInfo {
  readonly id: string;
  /** The matcher in words: `type=OPENAI_FAILURE severity=LOW,MEDIUM`, or `all alerts`. */
  readonly matcher: string;
  readonly reason: string | undefined;
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601. */
  readonly until: string;
}

/** Silences last at most this long: a forgotten silence must not hide alerts for ever. */
/**
 * A silence as the store keeps it and every instance sees it (same id everywhere). A
 * RegExp type matcher is kept as its source and flags.
 *
 * @example
 * ```ts
 * const silence = await alerts.createSilence({ type: 'NIGHTLY_SYNC' }, { durationMs: 3_600_000, reason: 'migration' });
 * console.log(silence.id, silence.matcher.type, silence.until); // '…' ['NIGHTLY_SYNC'] '2026-…'
 * ```
 */
export interface SilenceRecord {
  readonly id: string;
  readonly matcher: {
    readonly type?: readonly string[];
    readonly typePattern?: { readonly source: string; readonly flags: string };
    readonly resourceId?: readonly string[];
    readonly severity?: readonly Severity[];
  };
  readonly reason: string | undefined;
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601. */
  readonly until: string;
}

export const maxSilenceMs = 7 * 24 * 3_600_000;
const defaultSilenceMs = 3_600_000;

interface Silence {
  readonly id: string;
  readonly matcher: SilenceMatcher;
  readonly description: string;
  readonly reason: string | undefined;
  readonly createdAt: number;
  readonly until: number;
}

function listOf<T>(value: T | readonly T[] | undefined): readonly T[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

function describe(matcher: SilenceMatcher): string {
  const parts: string[] = [];
  if (matcher.type !== undefined) parts.push(`type=${matcher.type instanceof RegExp ? String(matcher.type) : listOf(matcher.type)!.join(',')}`);
  if (matcher.resourceId !== undefined) parts.push(`resourceId=${listOf(matcher.resourceId)!.join(',')}`);
  if (matcher.severity !== undefined) parts.push(`severity=${listOf(matcher.severity)!.join(',')}`);
  return parts.length === 0 ? 'all alerts' : parts.join(' ');
}

function matches(matcher: SilenceMatcher, message: AlertMessage): boolean {
  const { type, resourceId, severity } = matcher;
  if (type !== undefined) {
    if (type instanceof RegExp ? !type.test(message.type) : !listOf(type)!.includes(message.type)) return false;
  }
  if (resourceId !== undefined && (message.resourceId === undefined || !listOf(resourceId)!.includes(message.resourceId))) return false;
  if (severity !== undefined && !listOf(severity)!.includes(message.severity)) return false;
  return true;
}

function checkMatcher(matcher: unknown): SilenceMatcher {
  if (matcher === undefined) return {};
  if (typeof matcher !== 'object' || matcher === null || Array.isArray(matcher)) {
    throw new TypeError('Expected `matcher` to be an object like { type, resourceId, severity }.');
  }
  const m = matcher as SilenceMatcher;
  const strings = (value: unknown) => typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'));
  if (m.type !== undefined && !(m.type instanceof RegExp) && !strings(m.type))
    throw new TypeError('Expected `matcher.type` to be a string, a list of strings, or a RegExp.');
  if (m.resourceId !== undefined && !strings(m.resourceId)) throw new TypeError('Expected `matcher.resourceId` to be a string or a list of strings.');
  if (m.severity !== undefined && !listOf(m.severity)!.every((s) => severities.includes(s))) {
    throw new TypeError(`Expected \`matcher.severity\` to be one or more of ${severities.join(', ')}.`);
  }
  return m;
}

/** The silences of one alert service (in its process). */
export class Silences {
  private readonly active = new Map<string, Silence>();
  /** Ids known to be in the store. */
  private readonly fromStore = new Set<string>();

  /**
   * Adds a silence.
   *
   * @returns The silence and its restore function.
   * @throws TypeError for a bad matcher or an end in the past or more than 7 days ahead.
   */
  add(matcher: unknown, options: SilenceOptions, now: number): Silence {
    const checked = checkMatcher(matcher);
    const { until, durationMs, reason } = options ?? {};
    let end: number;
    if (until !== undefined) {
      end = until instanceof Date ? until.getTime() : until;
      if (typeof end !== 'number' || !Number.isFinite(end)) throw new TypeError('Expected `until` to be a Date or epoch milliseconds.');
    } else {
      const duration = durationMs ?? defaultSilenceMs;
      if (typeof duration !== 'number' || !Number.isFinite(duration) || duration <= 0) {
        throw new TypeError(`Expected \`durationMs\` to be a positive number, got ${String(duration)}.`);
      }
      end = now + duration;
    }
    if (end <= now) throw new TypeError('Expected the silence to end in the future.');
    if (end - now > maxSilenceMs) throw new TypeError('Expected the silence to last at most 7 days: a forgotten silence must not hide alerts for ever.');
    if (reason !== undefined && typeof reason !== 'string') throw new TypeError('Expected `reason` to be a string.');
    const silence: Silence = { id: randomUUID(), matcher: checked, description: describe(checked), reason, createdAt: now, until: end };
    this.active.set(silence.id, silence);
    return silence;
  }

  /** Ends a silence early; false when it was not active. */
  remove(id: string): boolean {
    this.fromStore.delete(id);
    return this.active.delete(id);
  }

  /** Whether `id` is an active silence here. */
  has(id: string): boolean {
    return this.active.has(id);
  }

  /** The stored form of an active silence. */
  record(id: string): SilenceRecord | undefined {
    const silence = this.active.get(id);
    if (silence === undefined) return undefined;
    const { type, resourceId, severity } = silence.matcher;
    return {
      id: silence.id,
      matcher: {
        ...(type instanceof RegExp ? { typePattern: { source: type.source, flags: type.flags } } : type !== undefined ? { type: [...listOf(type)!] } : {}),
        ...(resourceId !== undefined ? { resourceId: [...listOf(resourceId)!] } : {}),
        ...(severity !== undefined ? { severity: [...listOf(severity)!] } : {}),
      },
      reason: silence.reason,
      createdAt: new Date(silence.createdAt).toISOString(),
      until: new Date(silence.until).toISOString(),
    };
  }

  /**
   * Applies the silences the store holds: adds those created elsewhere, ends those no
   * longer there (expired or ended on another instance). Local silences not yet stored
   * (`keep`) stay.
   */
  sync(records: readonly SilenceRecord[], now: number, keep: ReadonlySet<string>): void {
    const seen = new Set<string>();
    for (const record of records) {
      const until = Date.parse(record.until);
      if (!(until > now)) continue;
      seen.add(record.id);
      if (this.active.has(record.id)) continue;
      const { type, typePattern, resourceId, severity } = record.matcher;
      const matcher: SilenceMatcher = {
        ...(typePattern !== undefined ? { type: new RegExp(typePattern.source, typePattern.flags) } : type !== undefined ? { type } : {}),
        ...(resourceId !== undefined ? { resourceId } : {}),
        ...(severity !== undefined ? { severity } : {}),
      };
      this.active.set(record.id, {
        id: record.id,
        matcher,
        description: describe(matcher),
        reason: record.reason,
        createdAt: Date.parse(record.createdAt),
        until,
      });
    }
    for (const id of [...this.active.keys()]) {
      if (!seen.has(id) && !keep.has(id) && this.fromStore.has(id)) this.active.delete(id);
    }
    for (const id of seen) this.fromStore.add(id);
  }

  /** Marks a silence as stored (a later sync that misses it ends it here). */
  stored(id: string): void {
    this.fromStore.add(id);
  }

  /** The first active silence matching `message`, dropping expired ones. */
  match(message: AlertMessage, now: number): Silence | undefined {
    for (const silence of this.active.values()) {
      if (silence.until <= now) {
        this.active.delete(silence.id);
        continue;
      }
      if (matches(silence.matcher, message)) return silence;
    }
    return undefined;
  }

  /** Active silences, for the status. */
  list(now: number): SilenceInfo[] {
    const out: SilenceInfo[] = [];
    for (const silence of this.active.values()) {
      if (silence.until <= now) {
        this.active.delete(silence.id);
        continue;
      }
      out.push({
        id: silence.id,
        matcher: silence.description,
        reason: silence.reason,
        createdAt: new Date(silence.createdAt).toISOString(),
        until: new Date(silence.until).toISOString(),
      });
    }
    return out;
  }
}
