import type { Client, OnboardingState } from '../db/generated/client.js';
import type { Db } from '../db/database.js';
import type { Tx } from '../db/types.js';
import { texts } from './messages.js';
import { allocateNumber } from './number-pool.js';
import { activatePayment, completeTestCall, transition } from './onboarding.js';
import { enqueueSms } from './outbox.js';

/**
 * How an operator resolves a stuck client. Each applies in some states only:
 *
 * - `activate_payment` (S5_CONFIRM_LIVE, PAYMENT_BLOCK): payment arrived out of band; the
 *   client moves to S9_TEST_CALL and is texted the test-call step.
 * - `complete_test_call` (S9_TEST_CALL, the terminal STUCK_CLIENT): the operator checked
 *   that calls reach the number; onboarding completes and the owner is texted "live".
 * - `allocate_number` (S3_SERVICE_AREA, owed a number): takes one from the pool now
 *   (409 when it is still empty: add numbers first) and texts it to the owner.
 * - `acknowledge` (any state): the operator has taken it up (e.g. called the owner); the
 *   dwell clock restarts, so the client is reported again if still there after the
 *   state's threshold. Nothing is sent.
 *
 * Every action clears `stuckDetectedAt`; the route then resolves the client's open
 * PAYMENT_BLOCK / STUCK_CLIENT alerts.
 */
export const resolveActions = ['activate_payment', 'complete_test_call', 'allocate_number', 'acknowledge'] as const;

/** One of {@link resolveActions}. */
export type ResolveAction = (typeof resolveActions)[number];

/** The states each action applies in (`undefined`: any). */
export const resolveActionStates: Readonly<Record<ResolveAction, readonly OnboardingState[] | undefined>> = {
  activate_payment: ['S5_CONFIRM_LIVE'],
  complete_test_call: ['S9_TEST_CALL'],
  allocate_number: ['S3_SERVICE_AREA'],
  acknowledge: undefined,
};

/** What {@link resolveStuckClient} did. */
export type ResolveOutcome =
  | { readonly kind: 'not_found' }
  | { readonly kind: 'conflict'; readonly state: OnboardingState; readonly reason: string }
  | { readonly kind: 'resolved'; readonly action: ResolveAction; readonly from: OnboardingState; readonly client: Client };

async function lockClient(tx: Tx, clientId: string): Promise<Client | null> {
  // Row lock: a webhook moving the same client waits for this transaction, and vice versa.
  await tx.$queryRaw`SELECT "id" FROM "clients" WHERE "id" = ${clientId} FOR UPDATE`;
  return tx.client.findUnique({ where: { id: clientId } });
}

/**
 * Applies `action` to a client in one transaction (state change, `stuckDetectedAt`
 * cleared, the owner's SMS in the outbox). See {@link resolveActions} for the semantics.
 *
 * @returns `not_found`, `conflict` (the action does not apply in the client's state, or the
 *   pool is empty) or `resolved` with the client after the change.
 */
export async function resolveStuckClient(db: Db, clientId: string, action: ResolveAction, systemNumber: string): Promise<ResolveOutcome> {
  return db.$transaction(async (tx): Promise<ResolveOutcome> => {
    const outcome = await applyAction(tx, clientId, action, systemNumber);
    if (outcome.kind !== 'resolved') return outcome;
    // The monitor's mark goes with the operator's resolution (a state change alone keeps it:
    // see transition() in onboarding.ts); the route resolves the open alerts.
    const client = await tx.client.update({ where: { id: clientId }, data: { stuckDetectedAt: null } });
    return { ...outcome, client };
  });
}

async function applyAction(tx: Tx, clientId: string, action: ResolveAction, systemNumber: string): Promise<ResolveOutcome> {
  const client = await lockClient(tx, clientId);
  if (client === null) return { kind: 'not_found' };
  const from = client.onboardingState;
  const states = resolveActionStates[action];
  if (states !== undefined && !states.includes(from)) {
    return { kind: 'conflict', state: from, reason: `${action} applies to clients in ${states.join(' or ')}; this one is in ${from}` };
  }
  switch (action) {
    case 'activate_payment': {
      const updated = await activatePayment(tx, clientId, systemNumber);
      return { kind: 'resolved', action, from, client: updated! };
    }
    case 'complete_test_call': {
      await completeTestCall(tx, client, systemNumber);
      return { kind: 'resolved', action, from, client: await tx.client.findUniqueOrThrow({ where: { id: clientId } }) };
    }
    case 'allocate_number': {
      const number = await allocateNumber(tx, clientId);
      if (number === undefined) return { kind: 'conflict', state: from, reason: 'the number pool is empty: add numbers first (POST /api/admin/numbers)' };
      const moved = await transition(tx, client, 'S4_NUMBER_ALLOCATED');
      await enqueueSms(tx, { to: client.phone, from: systemNumber, body: texts.numberAllocated(number.phoneNumber), purpose: 'number_ready' });
      return { kind: 'resolved', action, from, client: moved };
    }
    case 'acknowledge': {
      const updated = await tx.client.update({
        where: { id: clientId },
        data: from === 'COMPLETE' ? { stuckDetectedAt: null } : { stuckDetectedAt: null, stateEnteredAt: new Date() },
      });
      return { kind: 'resolved', action, from, client: updated };
    }
  }
}

/** The stuck-client alert types a client can have open (see stuck-clients.ts). */
export const stuckAlertTypes = ['PAYMENT_BLOCK', 'STUCK_CLIENT'] as const;
