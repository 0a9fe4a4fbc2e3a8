import type { Client, OnboardingState } from '../db/generated/client.js';
import type { Db } from '../db/database.js';
import type { DbOrTx, Tx } from '../db/types.js';
import { InvariantViolation } from './errors.js';
import type { Extractor } from './extractor.js';
import { texts } from './messages.js';
import { allocateNumber } from './number-pool.js';
import { enqueueSms } from './outbox.js';

/**
 * The onboarding states, in order. Each names the milestone the client has reached:
 * S1 welcomed (asked for the business name), S2 name recorded (asked for the area), S3
 * area recorded (a number is due), S4 number allocated (asked to confirm), S5 confirmed
 * (waiting for payment), S9 paid (waiting for the test call), COMPLETE.
 */
export const onboardingOrder: readonly OnboardingState[] = [
  'S1_WELCOME',
  'S2_BUSINESS_NAME',
  'S3_SERVICE_AREA',
  'S4_NUMBER_ALLOCATED',
  'S5_CONFIRM_LIVE',
  'S9_TEST_CALL',
  'COMPLETE',
];

/** The moves the state machine allows; anything else is a bug (InvariantViolation). */
const allowed: Record<OnboardingState, readonly OnboardingState[]> = {
  S1_WELCOME: ['S2_BUSINESS_NAME'],
  S2_BUSINESS_NAME: ['S3_SERVICE_AREA'],
  S3_SERVICE_AREA: ['S4_NUMBER_ALLOCATED'],
  S4_NUMBER_ALLOCATED: ['S5_CONFIRM_LIVE'],
  S5_CONFIRM_LIVE: ['S9_TEST_CALL'],
  S9_TEST_CALL: ['COMPLETE'],
  COMPLETE: [],
};

/** Whether `from` may move to `to`. */
export function canTransition(from: OnboardingState, to: OnboardingState): boolean {
  return allowed[from].includes(to);
}

/** Something the caller must act on after commit (an alert, a metric). */
export type OnboardingEvent = { readonly type: 'POOL_EMPTY'; readonly clientId: string };

/** What handling an owner's message decided. */
export interface OwnerReply {
  readonly reply: string;
  readonly client: Client;
  readonly events: readonly OnboardingEvent[];
}

/** What the onboarding flow needs from outside. */
export interface OnboardingDeps {
  readonly extractor: Extractor;
  /** The system onboarding number (the sender of onboarding texts). */
  readonly systemNumber: string;
  /** Where an owner pays, for `clientId`. */
  readonly paymentLink: (clientId: string) => string;
}

/**
 * Moves `client` to `to`, recording when it entered the state; refuses illegal moves. A
 * `stuckDetectedAt` mark is left as it is: older than the new state, it tells the monitor
 * the client moved on, and the monitor resolves the alert and clears it (stuck-clients.ts).
 */
export async function transition(db: DbOrTx, client: Client, to: OnboardingState, data: Partial<Client> = {}): Promise<Client> {
  if (!canTransition(client.onboardingState, to)) {
    throw new InvariantViolation(`illegal onboarding move ${client.onboardingState} -> ${to}`, { clientId: client.id });
  }
  return db.client.update({
    where: { id: client.id },
    data: { ...data, onboardingState: to, stateEnteredAt: new Date() },
  });
}

async function tryAllocate(tx: Tx, client: Client): Promise<{ client: Client; reply: string; events: OnboardingEvent[] }> {
  const number = await allocateNumber(tx, client.id);
  if (number === undefined) return { client, reply: texts.poolEmpty, events: [{ type: 'POOL_EMPTY', clientId: client.id }] };
  const moved = await transition(tx, client, 'S4_NUMBER_ALLOCATED');
  return { client: moved, reply: texts.numberAllocated(number.phoneNumber), events: [] };
}

/**
 * The change an owner's message makes when it is one row of `clients` or none: a new
 * owner's row, one move of its state (with the business name), or nothing but the reply.
 * Decided before anything is written, so the SMS hot path can write it together with the
 * inbox row in one statement (db/inbound-statements.ts); {@link handleOwnerMessage} applies
 * the same decision through Prisma.
 */
export type OwnerStep =
  | { readonly kind: 'create'; readonly reply: string }
  | { readonly kind: 'transition'; readonly from: OnboardingState; readonly to: OnboardingState; readonly businessName: string; readonly reply: string }
  | { readonly kind: 'none'; readonly reply: string };

/**
 * Decides an owner's message when it is an {@link OwnerStep} (a new owner, the business
 * name, an answer to ask again, a reminder to pay); undefined when it needs more (a number
 * to allocate, the test call, the owner's commands: {@link handleOwnerMessage} does those).
 *
 * @param client - The owner's row (null: a new owner).
 * @throws What the extractor throws.
 * @example
 * ```ts
 * const step = await ownerStep(null, 'Hi', deps); // { kind: 'create', reply: texts.welcome }
 * ```
 */
export async function ownerStep(client: Client | null, text: string, deps: OnboardingDeps): Promise<OwnerStep | undefined> {
  if (client === null) return { kind: 'create', reply: texts.welcome };
  switch (client.onboardingState) {
    case 'S1_WELCOME':
      return welcomeStep(text, deps);
    case 'S5_CONFIRM_LIVE':
      return client.paymentActive ? undefined : { kind: 'none', reply: texts.paymentNeeded(deps.paymentLink(client.id)) };
    default:
      return undefined;
  }
}

/**
 * The step of an owner in `S1_WELCOME` ({@link ownerStep}): it depends on the state and the
 * text alone, so the SMS hot path can decide it on a guess of the state (domain/known-owners.ts).
 *
 * @throws What the extractor throws.
 * @example
 * ```ts
 * const step = await welcomeStep("It's Ace Plumbing", deps); // S1 -> S2 with the business name
 * ```
 */
export async function welcomeStep(text: string, deps: Pick<OnboardingDeps, 'extractor'>): Promise<OwnerStep> {
  const { businessName } = await deps.extractor.extract('business_name', text);
  if (businessName === undefined) return { kind: 'none', reply: texts.askNameAgain };
  return { kind: 'transition', from: 'S1_WELCOME', to: 'S2_BUSINESS_NAME', businessName, reply: texts.askServiceArea(businessName) };
}

/**
 * Handles a text from a business owner to the system number: onboarding while it is not
 * complete, then the owner's commands (PAUSE, RESUME, STATUS). Runs in the caller's
 * transaction; returns the reply to send back. `known` is the owner's row when the caller
 * read it already in this transaction (null: no client yet); left out, it is read here.
 */
export async function handleOwnerMessage(tx: Tx, ownerPhone: string, text: string, deps: OnboardingDeps, known?: Client | null): Promise<OwnerReply> {
  const existing = known !== undefined ? known : await tx.client.findUnique({ where: { phone: ownerPhone } });
  const step = await ownerStep(existing, text, deps);
  if (step?.kind === 'create') return { client: await tx.client.create({ data: { phone: ownerPhone } }), reply: step.reply, events: [] };
  if (existing === null) throw new Error('unreachable: a new owner is a create step');
  if (step?.kind === 'none') return { client: existing, reply: step.reply, events: [] };
  if (step?.kind === 'transition')
    return { client: await transition(tx, existing, step.to, { businessName: step.businessName }), reply: step.reply, events: [] };
  let client = existing;
  switch (client.onboardingState) {
    case 'S2_BUSINESS_NAME': {
      const { serviceArea } = await deps.extractor.extract('service_area', text);
      if (serviceArea === undefined) return { client, reply: texts.askAreaAgain, events: [] };
      client = await transition(tx, client, 'S3_SERVICE_AREA', { serviceArea });
      return tryAllocate(tx, client);
    }
    case 'S3_SERVICE_AREA':
      return tryAllocate(tx, client);
    case 'S4_NUMBER_ALLOCATED': {
      const { confirmation } = await deps.extractor.extract('confirmation', text);
      if (confirmation !== true) return { client, reply: texts.askConfirmAgain, events: [] };
      client = await transition(tx, client, 'S5_CONFIRM_LIVE');
      if (!client.paymentActive) return { client, reply: texts.paymentNeeded(deps.paymentLink(client.id)), events: [] };
      return startTestCall(tx, client);
    }
    case 'S5_CONFIRM_LIVE':
      return startTestCall(tx, client); // paid: ownerStep answered the unpaid case
    case 'S9_TEST_CALL': {
      const number = await tx.poolNumber.findUnique({ where: { clientId: client.id } });
      return { client, reply: texts.testCall(number?.phoneNumber ?? 'your assistant number'), events: [] };
    }
    case 'COMPLETE':
      return ownerCommand(tx, client, text);
    case 'S1_WELCOME':
      throw new Error('unreachable: ownerStep decides S1');
  }
}

async function startTestCall(tx: Tx, client: Client): Promise<OwnerReply> {
  const moved = await transition(tx, client, 'S9_TEST_CALL');
  const number = await tx.poolNumber.findUnique({ where: { clientId: client.id } });
  return { client: moved, reply: texts.testCall(number?.phoneNumber ?? 'your assistant number'), events: [] };
}

async function ownerCommand(tx: Tx, client: Client, text: string): Promise<OwnerReply> {
  const command = text.trim().toUpperCase();
  const number = await tx.poolNumber.findUnique({ where: { clientId: client.id } });
  if (command === 'PAUSE') {
    const updated = await tx.client.update({ where: { id: client.id }, data: { outboundPaused: true } });
    return { client: updated, reply: texts.ownerPaused, events: [] };
  }
  if (command === 'RESUME') {
    const updated = await tx.client.update({ where: { id: client.id }, data: { outboundPaused: false } });
    return { client: updated, reply: texts.ownerResumed, events: [] };
  }
  if (command === 'STATUS') {
    return { client, reply: texts.ownerStatus(client.businessName ?? 'Your business', number?.phoneNumber, client.outboundPaused), events: [] };
  }
  return { client, reply: texts.ownerHelp, events: [] };
}

/**
 * Marks a client's payment active (Stripe checkout or an admin). A client waiting for it
 * moves on to the test call and is told by SMS (through the outbox, in this transaction).
 *
 * @returns The client after the change, or undefined when there is no such client.
 */
export async function activatePayment(tx: Tx, clientId: string, systemNumber: string): Promise<Client | undefined> {
  const client = await tx.client.findUnique({ where: { id: clientId } });
  if (client === null) return undefined;
  let updated = client.paymentActive ? client : await tx.client.update({ where: { id: clientId }, data: { paymentActive: true } });
  if (updated.onboardingState === 'S5_CONFIRM_LIVE') {
    updated = await transition(tx, updated, 'S9_TEST_CALL');
    const number = await tx.poolNumber.findUnique({ where: { clientId } });
    await enqueueSms(tx, { to: updated.phone, from: systemNumber, body: texts.testCall(number?.phoneNumber ?? 'your assistant number'), purpose: 'payment' });
  }
  return updated;
}

/**
 * Completes onboarding when the owner's test call reaches their new number.
 *
 * @returns Whether the client was completed now.
 */
export async function completeTestCall(tx: Tx, client: Client, systemNumber: string): Promise<boolean> {
  if (client.onboardingState !== 'S9_TEST_CALL') return false;
  const moved = await transition(tx, client, 'COMPLETE');
  await enqueueSms(tx, { to: moved.phone, from: systemNumber, body: texts.live(moved.businessName ?? 'Your business'), purpose: 'live' });
  return true;
}

/**
 * Gives numbers to clients waiting for one (after the pool was restocked) and tells each
 * by SMS, one transaction per client.
 *
 * @returns How many clients got a number.
 */
export async function allocateWaitingClients(db: Db, systemNumber: string): Promise<number> {
  const waiting = await db.client.findMany({ where: { onboardingState: 'S3_SERVICE_AREA' }, orderBy: { stateEnteredAt: 'asc' } });
  let served = 0;
  for (const candidate of waiting) {
    const done = await db.$transaction(async (tx) => {
      const client = await tx.client.findUnique({ where: { id: candidate.id } });
      if (client?.onboardingState !== 'S3_SERVICE_AREA') return false;
      const number = await allocateNumber(tx, client.id);
      if (number === undefined) return false;
      await transition(tx, client, 'S4_NUMBER_ALLOCATED');
      await enqueueSms(tx, { to: client.phone, from: systemNumber, body: texts.numberAllocated(number.phoneNumber), purpose: 'number_ready' });
      return true;
    });
    if (!done) break;
    served++;
  }
  return served;
}
