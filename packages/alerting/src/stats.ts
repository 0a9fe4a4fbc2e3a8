import type { Severity } from './alert.js';
import type { AlertOutcome, OutcomeCount } from './store/alert-store.js';

/**
 * Counts per outcome.
 *
 * @example
 * ```ts
 * const stats = await alerts.getAlertStats({ hours: 24 });
 * const openai = stats.byType.OPENAI_FAILURE; // { delivered, suppressed, failed, ..., total }
 * ```
 */
export type OutcomeCounts = Record<AlertOutcome, number> & { readonly total: number };

/**
 * The answer of {@link AlertService.getAlertStats}: what the alert system did over the
 * last hours, for an admin endpoint.
 *
 * @example
 * ```ts
 * const stats = await alerts.getAlertStats({ hours: 24 });
 * console.log(stats.delivered, stats.suppressed, stats.byType.OPENAI_FAILURE?.failed);
 * ```
 */
export interface AlertStats {
  /** Start of the period (ISO 8601). */
  readonly since: string;
  /** End of the period (ISO 8601). */
  readonly until: string;
  readonly hours: number;
  /** History rows in the period. */
  readonly total: number;
  readonly delivered: number;
  /** Duplicates within the suppression window. */
  readonly suppressed: number;
  readonly silenced: number;
  readonly inhibited: number;
  readonly disabled: number;
  /** Deliveries where every remote sink failed, plus SMS that were not delivered. */
  readonly failed: number;
  readonly resolved: number;
  readonly escalated: number;
  /** SMS delivery receipts. */
  readonly confirmed: number;
  /** Alerts acknowledged (escalation stopped). */
  readonly acknowledged: number;
  /** Counts per alert type. */
  readonly byType: Readonly<Record<string, OutcomeCounts>>;
  /** Counts per severity. */
  readonly bySeverity: Readonly<Record<Severity, OutcomeCounts>>;
}

const outcomes: readonly AlertOutcome[] = [
  'delivered',
  'suppressed',
  'silenced',
  'inhibited',
  'disabled',
  'failed',
  'resolved',
  'escalated',
  'confirmed',
  'acknowledged',
];

function emptyCounts(): Record<AlertOutcome, number> & { total: number } {
  const counts = { total: 0 } as Record<AlertOutcome, number> & { total: number };
  for (const outcome of outcomes) counts[outcome] = 0;
  return counts;
}

/**
 * Folds the store's counts into {@link AlertStats}.
 *
 * @param rows - Counts by type, severity and outcome.
 * @param since - Start, epoch ms.
 * @param until - End, epoch ms.
 * @param hours - The period asked for.
 * @returns The stats.
 */
export function buildStats(rows: readonly OutcomeCount[], since: number, until: number, hours: number): AlertStats {
  const totals = emptyCounts();
  const byType: Record<string, Record<AlertOutcome, number> & { total: number }> = {};
  const bySeverity = { LOW: emptyCounts(), MEDIUM: emptyCounts(), HIGH: emptyCounts() };
  for (const row of rows) {
    if (!outcomes.includes(row.outcome)) continue;
    const count = Number(row.count);
    totals[row.outcome] += count;
    totals.total += count;
    const type = (byType[row.type] ??= emptyCounts());
    type[row.outcome] += count;
    type.total += count;
    const severity = bySeverity[row.severity];
    if (severity !== undefined) {
      severity[row.outcome] += count;
      severity.total += count;
    }
  }
  return {
    since: new Date(since).toISOString(),
    until: new Date(until).toISOString(),
    hours,
    ...totals,
    byType,
    bySeverity,
  };
}
