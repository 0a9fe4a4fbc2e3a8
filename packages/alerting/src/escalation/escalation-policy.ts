import type { Severity } from '../alert.js';
import { severities } from '../alert.js';

/**
 * One step of an {@link EscalationPolicy}: after `afterMs` unacknowledged and unresolved,
 * an escalation notice goes to `sinks` (or to the route of `severity`). Each step fires at
 * most once per alert, fleet-wide.
 *
 * @example
 * ```ts
 * import type { EscalationStep } from '@hardening/alerting';
 * const page: EscalationStep = { afterMs: 15 * 60_000, sinks: ['sms'], severity: 'HIGH' };
 * ```
 */
export interface EscalationStep {
  /** Time since the alert was first raised (since it was last resolved) before this step fires. */
  readonly afterMs: number;
  /**
   * The sinks this step goes to.
   * @default the route of the step's `severity` (per type, else the service's)
   */
  readonly sinks?: readonly string[];
  /**
   * Severity of the escalation notice (and the route used when `sinks` is not given).
   * @default 'HIGH'
   */
  readonly severity?: Severity;
}

/**
 * An escalation policy: steps in time order, stopped by an acknowledgement or a resolve.
 * Steps are evaluated in the maintenance round of any instance; a durable timer per alert
 * (in the store's delivery table) is taken by exactly one instance when due, and each step
 * is claimed in the store per (alert, step), so it fires once fleet-wide.
 *
 * @example
 * ```ts
 * import type { EscalationPolicy } from '@hardening/alerting';
 * const policy: EscalationPolicy = {
 *   severities: ['HIGH'],
 *   steps: [
 *     { afterMs: 10 * 60_000, sinks: ['slack'] },
 *     { afterMs: 30 * 60_000, sinks: ['sms-backup'], severity: 'HIGH' },
 *   ],
 * };
 * ```
 */
export interface EscalationPolicy {
  /**
   * Severities of the alerts this policy applies to.
   * @default ['HIGH', 'MEDIUM', 'LOW']
   */
  readonly severities?: readonly Severity[];
  /** The steps, with strictly increasing `afterMs` (at least one, at most 10). */
  readonly steps: readonly EscalationStep[];
}

/** A policy checked, with its defaults applied. */
export interface ResolvedEscalationPolicy {
  readonly severities: readonly Severity[];
  readonly steps: ReadonlyArray<{ readonly afterMs: number; readonly sinks: readonly string[] | undefined; readonly severity: Severity }>;
}

/** `Array.isArray` would narrow to `any[]`; the elements stay `unknown` until checked. */
function isList(value: unknown): value is readonly unknown[] {
  return Array.isArray(value);
}

function isSeverity(value: unknown): value is Severity {
  return (severities as readonly unknown[]).includes(value);
}

/**
 * Checks a policy and applies its defaults.
 *
 * @param policy - The policy as configured.
 * @param known - Configured sink names.
 * @param field - The option's name, for the error.
 * @returns The checked policy.
 * @throws TypeError naming the bad field.
 */
export function resolveEscalationPolicy(policy: unknown, known: ReadonlySet<string>, field: string): ResolvedEscalationPolicy {
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) {
    throw new TypeError(`Expected \`${field}\` to be an object like { steps: [{ afterMs: 600000, sinks: ['sms'] }] } or false.`);
  }
  const { steps, severities: applies } = policy as { readonly steps?: unknown; readonly severities?: unknown };
  if (!isList(steps) || steps.length === 0 || steps.length > 10) throw new TypeError(`Expected \`${field}.steps\` to be a list of 1 to 10 steps.`);
  const chosen = applies ?? severities;
  if (!isList(chosen) || chosen.length === 0 || !chosen.every(isSeverity)) {
    throw new TypeError(`Expected \`${field}.severities\` to list severities (${severities.join(', ')}).`);
  }
  let previous = 0;
  const resolved = steps.map((raw, index) => {
    const at = `${field}.steps[${index}]`;
    if (typeof raw !== 'object' || raw === null) throw new TypeError(`Expected \`${at}\` to be an object like { afterMs: 600000, sinks: ['sms'] }.`);
    const step = raw as { readonly afterMs?: unknown; readonly sinks?: unknown; readonly severity?: unknown };
    if (typeof step.afterMs !== 'number' || !Number.isFinite(step.afterMs) || step.afterMs <= previous) {
      throw new TypeError(
        `Expected \`${at}.afterMs\` to be a number of milliseconds greater than ${previous} (steps in time order), got ${String(step.afterMs)}.`,
      );
    }
    previous = step.afterMs;
    const severity = step.severity ?? 'HIGH';
    if (!isSeverity(severity)) throw new TypeError(`Expected \`${at}.severity\` to be one of ${severities.join(', ')}, got ${JSON.stringify(severity)}.`);
    let sinks: string[] | undefined;
    if (step.sinks !== undefined) {
      if (!isList(step.sinks) || step.sinks.length === 0) throw new TypeError(`Expected \`${at}.sinks\` to be a non-empty list of sink names.`);
      sinks = step.sinks.map((name) => {
        if (typeof name !== 'string' || !known.has(name))
          throw new TypeError(`\`${at}.sinks\` names the sink ${JSON.stringify(name)}, which is not configured (configured: ${[...known].join(', ')}).`);
        return name;
      });
    }
    return { afterMs: step.afterMs, sinks, severity };
  });
  return { severities: [...chosen], steps: resolved };
}
