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

/** Clients still onboarding (or marked stuck), as the detectors read them. */
export async function onboardingClients(db: DbOrTx): Promise<TrackedEntity[]> {
  const clients = await db.client.findMany({
    where: { OR: [{ onboardingState: { not: 'COMPLETE' } }, { stuckDetectedAt: { not: null } }] },
    select: { id: true, onboardingState: true, stateEnteredAt: true, stuckDetectedAt: true, businessName: true },
  });
  return clients.map((c) => ({ id: c.id, state: c.onboardingState, enteredAt: c.stateEnteredAt, stuckDetectedAt: c.stuckDetectedAt, label: c.businessName ?? c.id }));
}

/**
 * One detector per rule. With `alerts` they raise alerts and record `stuckDetectedAt`
 * (re-alerting at most every 6 h); without, they only report (the admin API).
 */
export function stuckClientDetectors(db: DbOrTx, options: { alerts?: AlertSender; clock?: Clock } = {}): StuckStateDetector[] {
  return stuckRules.map(
    (rule) =>
      new StuckStateDetector({
        source: () => onboardingClients(db),
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
              markRecovered: (ids: readonly string[]) => db.client.updateMany({ where: { id: { in: [...ids] } }, data: { stuckDetectedAt: null } }),
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
