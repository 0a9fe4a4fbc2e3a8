import type { Severity } from '../alert.js';
import { severities } from '../alert.js';

/**
 * Which alerts a side of an {@link InhibitRule} matches: every field given must match (a
 * list means any of its values). An empty matcher matches every alert.
 *
 * @example
 * ```ts
 * import type { AlertMatcher } from '@hardening/alerting';
 * const databaseDown: AlertMatcher = { type: ['DB_DOWN', 'DB_UNREACHABLE'], severity: 'HIGH' };
 * ```
 */
export interface AlertMatcher {
  readonly type?: string | readonly string[];
  readonly severity?: Severity | readonly Severity[];
  readonly resourceId?: string | readonly string[];
}

/** The labels an {@link InhibitRule} can require to be equal on source and target. */
export type InhibitLabel = 'type' | 'resourceId';

/**
 * An inhibition rule, like Alertmanager's: while an alert matching `source` is open (inside
 * its suppression window, not resolved), new alerts matching `target` whose `equal`
 * labels have the same values are muted (recorded as `inhibited`). An alert never inhibits
 * itself.
 *
 * @example
 * ```ts
 * import type { InhibitRule } from '@hardening/alerting';
 * // While the database is down, do not page for the queue backing up behind it.
 * const rule: InhibitRule = { source: { type: 'DB_DOWN' }, target: { type: ['QUEUE_BACKLOG', 'SLOW_REQUESTS'] } };
 * ```
 */
export interface InhibitRule {
  /** The alerts that inhibit. */
  readonly source: AlertMatcher;
  /** The alerts that are inhibited. */
  readonly target: AlertMatcher;
  /**
   * Labels that must be equal on both (an alert without a resource never has an equal
   * `resourceId`).
   * @default [] (any source inhibits any target)
   */
  readonly equal?: readonly InhibitLabel[];
}

/**
 * The rule that applies when no `inhibitRules` are configured: an open HIGH alert mutes
 * MEDIUM and LOW alerts on the same resource.
 *
 * @example
 * ```ts
 * import { defaultInhibitRule } from '@hardening/alerting';
 * createAlertService({ sinks, inhibitRules: [defaultInhibitRule, { source: { type: 'DB_DOWN' }, target: { type: 'QUEUE_BACKLOG' } }] });
 * ```
 */
export const defaultInhibitRule: InhibitRule = Object.freeze({
  source: Object.freeze({ severity: 'HIGH' as const }),
  target: Object.freeze({ severity: Object.freeze(['MEDIUM', 'LOW'] as const) }),
  equal: Object.freeze(['resourceId'] as const),
});

/** The labels of an alert a matcher reads. */
export interface MatchableAlert {
  readonly type: string;
  readonly severity: Severity;
  readonly resourceId: string | undefined;
}

function oneOf(wanted: string | readonly string[] | undefined, value: string | undefined): boolean {
  if (wanted === undefined) return true;
  if (value === undefined) return false;
  return typeof wanted === 'string' ? wanted === value : wanted.includes(value);
}

/**
 * Whether an alert matches a matcher.
 *
 * @param matcher - The matcher.
 * @param alert - The alert's labels.
 * @returns True when every given field matches.
 */
export function matchesAlert(matcher: AlertMatcher, alert: MatchableAlert): boolean {
  return oneOf(matcher.type, alert.type) && oneOf(matcher.severity, alert.severity) && oneOf(matcher.resourceId, alert.resourceId);
}

/**
 * Whether `source` inhibits `target` under `rule` (the matchers and the equal labels).
 *
 * @param rule - The rule.
 * @param source - An open alert.
 * @param target - The new alert.
 * @returns True when the target is muted.
 */
export function inhibits(rule: InhibitRule, source: MatchableAlert, target: MatchableAlert): boolean {
  if (!matchesAlert(rule.source, source) || !matchesAlert(rule.target, target)) return false;
  for (const label of rule.equal ?? []) {
    const a = source[label];
    if (a === undefined || a !== target[label]) return false;
  }
  return true;
}

function checkMatcher(matcher: unknown, field: string): void {
  if (typeof matcher !== 'object' || matcher === null || Array.isArray(matcher))
    throw new TypeError(`Expected \`${field}\` to be a matcher like { type: 'DB_DOWN', severity: 'HIGH' }.`);
  for (const [name, value] of Object.entries(matcher)) {
    if (name !== 'type' && name !== 'severity' && name !== 'resourceId')
      throw new TypeError(`Expected \`${field}\` to match on type, severity or resourceId, got ${JSON.stringify(name)}.`);
    const values: unknown = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string')) {
      throw new TypeError(`Expected \`${field}.${name}\` to be a string or a non-empty list of strings.`);
    }
    if (name === 'severity' && !values.every((v) => severities.includes(v as Severity))) {
      throw new TypeError(`Expected \`${field}.severity\` to be among ${severities.join(', ')}.`);
    }
  }
}

/**
 * Checks inhibition rules.
 *
 * @param rules - The rules as configured.
 * @returns The rules.
 * @throws TypeError naming the bad field.
 */
export function checkInhibitRules(rules: unknown): readonly InhibitRule[] {
  if (!Array.isArray(rules) || rules.length > 100)
    throw new TypeError('Expected `inhibitRules` to be a list of at most 100 rules like { source, target, equal }.');
  rules.forEach((rule: unknown, index) => {
    const field = `inhibitRules[${index}]`;
    if (typeof rule !== 'object' || rule === null) throw new TypeError(`Expected \`${field}\` to be an object like { source, target, equal }.`);
    const { source, target, equal } = rule as InhibitRule;
    checkMatcher(source, `${field}.source`);
    checkMatcher(target, `${field}.target`);
    if (equal !== undefined && (!Array.isArray(equal) || !equal.every((l) => l === 'type' || l === 'resourceId'))) {
      throw new TypeError(`Expected \`${field}.equal\` to list labels among type, resourceId.`);
    }
  });
  return rules as InhibitRule[];
}
