import { StuckStateDetector, type AlertSender, type Clock, type StuckEntity, type TrackedEntity } from '@hardening/alerting';
import type { OnboardingState } from '../db/generated/client.js';
import type { DbOrTx } from '../db/types.js';

const minute = 60_000;
const hour = 60 * minute;

/**
 * How long a client may stay in each onboarding state before it counts as stuck, and the
 * alert it raises. A client waiting for payment over 2 h is a PAYMENT_BLOCK; one that has
 * not made its test call after 24 h will not on its own (terminal) and is a STUCK_CLIENT,
 * as is one we owe a number for over 30 min (the pool ran dry).
 */
export const stuckRules = [
  { alertType: 'PAYMENT_BLOCK', maxDwellMs: { S5_CONFIRM_LIVE: 2 * hour }, terminalStates: [] as OnboardingState[] },
  {
    alertType: 'STUCK_CLIENT',
    maxDwellMs: {
      S1_WELCOME: 24 * hour,
      S2_BUSINESS_NAME: 24 * hour,
      S3_SERVICE_AREA: 30 * minute,
      S4_NUMBER_ALLOCATED: 24 * hour,
      S9_TEST_CALL: 24 * hour,
    },
    terminalStates: ['S9_TEST_CALL'] as OnboardingState[],
  },
] as const satisfies ReadonlyArray<{ alertType: string; maxDwellMs: Partial<Record<OnboardingState, number>>; terminalStates: OnboardingState[] }>;

/** The states a rule watches: those with a limit, and its terminal ones. */
const watchedBy = (rule: (typeof stuckRules)[number]): OnboardingState[] => [
  ...new Set([...(Object.keys(rule.maxDwellMs) as OnboardingState[]), ...rule.terminalStates]),
];

/**
 * Clients still onboarding (or marked stuck), as the detectors read them. With `states` (one
 * rule's), only the clients in those states, plus those whose `stuckDetectedAt` mark is older
 * than their current state (they moved on since they were alerted: the rule that alerted
 * them resolves its alert and clears the mark). A rule never sees a client another rule has
 * marked in its current state: it would take the mark for a recovery and clear it, and the
 * 6 h re-alert window would no longer hold across instances and restarts.
 */
export async function onboardingClients(db: DbOrTx, states?: readonly OnboardingState[]): Promise<TrackedEntity[]> {
  const where =
    states === undefined
      ? { OR: [{ onboardingState: { not: 'COMPLETE' as const } }, { stuckDetectedAt: { not: null } }] }
      : { OR: [{ onboardingState: { in: [...states] } }, { stuckDetectedAt: { lt: db.client.fields.stateEnteredAt } }] };
  const clients = await db.client.findMany({
    where,
    select: { id: true, onboardingState: true, stateEnteredAt: true, stuckDetectedAt: true, businessName: true },
  });
  return clients.map((c) => ({
    id: c.id,
    state: c.onboardingState,
    enteredAt: c.stateEnteredAt,
    stuckDetectedAt: c.stuckDetectedAt,
    label: c.businessName ?? c.id,
  }));
}

/**
 * One detector per rule. With `alerts` they raise alerts and record `stuckDetectedAt`
 * (re-alerting at most every 6 h); without, they only report (the admin API).
 */
export function stuckClientDetectors(db: DbOrTx, options: { alerts?: AlertSender; clock?: Clock } = {}): StuckStateDetector[] {
  return stuckRules.map(
    (rule) =>
      new StuckStateDetector({
        source: () => onboardingClients(db, watchedBy(rule)),
        maxDwellMs: rule.maxDwellMs,
        terminalStates: rule.terminalStates,
        alertType: rule.alertType,
        entityName: 'client',
        ...(options.clock === undefined ? {} : { clock: options.clock }),
        ...(options.alerts === undefined
          ? {}
          : {
              alerts: options.alerts,
              markDetected: (entities: readonly StuckEntity[], at: Date) =>
                db.client.updateMany({ where: { id: { in: entities.map((e) => e.id) } }, data: { stuckDetectedAt: at } }),
              markRecovered: async (ids: readonly string[]) => {
                // The mark is shared by the rules: a client that moved on may have been alerted
                // by another rule (in an earlier state), which will not see the mark once it is
                // cleared. Resolve every rule's alert (a no-op where none is open).
                for (const other of stuckRules) {
                  if (other === rule) continue;
                  for (const id of ids) await options.alerts!.resolveAlert({ type: other.alertType, resourceId: id, message: 'It moved on.' });
                }
                await db.client.updateMany({ where: { id: { in: [...ids] } }, data: { stuckDetectedAt: null } });
              },
            }),
      }),
  );
}

/** Every stuck client now, worst first (for the admin API). */
export async function findStuckClients(db: DbOrTx): Promise<StuckEntity[]> {
  const found = (await Promise.all(stuckClientDetectors(db).map((d) => d.detect()))).flat();
  const rank = { HIGH: 0, MEDIUM: 1, LOW: 2 } as const;
  return found.sort((a, b) => rank[a.severity] - rank[b.severity] || b.overBy - a.overBy);
}
