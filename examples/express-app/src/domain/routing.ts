import type { Client, OnboardingState } from '../db/generated/client.js';
import type { Tx } from '../db/types.js';
import { handleCustomerMessage } from './conversation.js';
import { InvariantViolation } from './errors.js';
import type { Extractor } from './extractor.js';
import type { KnownOwners } from './known-owners.js';
import { texts } from './messages.js';
import type { OnboardingEvent, OwnerStep } from './onboarding.js';
import { handleOwnerMessage, ownerStep } from './onboarding.js';

/** An inbound SMS, as Twilio posts it (already verified). */
export interface InboundSms {
  readonly messageSid: string;
  readonly from: string;
  readonly to: string;
  readonly body: string;
}

/** Where an SMS goes. */
export type Route =
  | { readonly kind: 'owner' }
  | { readonly kind: 'operator' }
  | { readonly kind: 'system_caller' }
  | { readonly kind: 'customer'; readonly client: Client; readonly clientNumber: string }
  | { readonly kind: 'unknown_number' };

/** What processing decided: the reply, and what to do after commit. */
export interface ProcessingResult {
  /** `compliance`: an opt-out keyword (STOP, HELP, START) answered before routing. */
  readonly route: Route['kind'] | 'compliance';
  readonly reply: string;
  readonly urgent: boolean;
  readonly events: readonly OnboardingEvent[];
}

/** What processing needs from outside. */
export interface ProcessingDeps {
  readonly extractor: Extractor;
  readonly systemNumber: string;
  /** The operators' phones (every number of ALERT_SMS_TO): their texts to the system number answer alerts. */
  readonly operatorPhones?: readonly string[];
  readonly paymentLink: (clientId: string) => string;
  /**
   * The owners this instance wrote or read lately, so the hot path can guess the sender's
   * client row instead of reading it first (domain/known-owners.ts). Left out, every sender
   * of the system number is guessed to be a new owner; a wrong guess costs nothing but the
   * guess (the statement returns the route it read).
   */
  readonly knownOwners?: KnownOwners;
}

/**
 * Decides where an SMS goes: the system number is onboarding (and the owner's commands), a
 * client's number is that client's customers, anything else is a number we do not use. On
 * the system number, two senders are not owners: an operator (a number of ALERT_SMS_TO, answering an
 * alert SMS) and someone who called the system number and got the fail-safe text inviting
 * them to write (a caller, not a business signing up), unless they are a client already.
 *
 * @throws InvariantViolation when the pool contradicts itself (an assigned number without
 *   a client, the system number assigned to a client).
 */
export async function route(tx: Tx, sms: InboundSms, systemNumber: string, operatorPhones: readonly string[] = []): Promise<Route> {
  const number = await tx.poolNumber.findUnique({ where: { phoneNumber: sms.to }, include: { client: true } });
  if (sms.to === systemNumber) {
    checkSystemNumber(number);
    if (operatorPhones.includes(sms.from)) return { kind: 'operator' };
    // One indexed lookup: a sender with no client row yet who got the system number's
    // fail-safe text (outbox rows are looked up by phone only for a first text).
    const [row] = await tx.$queryRaw<Array<{ caller: boolean }>>`
      SELECT NOT EXISTS (SELECT 1 FROM "clients" WHERE "phone" = ${sms.from})
         AND EXISTS (SELECT 1 FROM "outbound_messages" WHERE "to_phone" = ${sms.from} AND "from_phone" = ${systemNumber} AND "purpose" = 'failsafe') AS caller`;
    return row?.caller === true ? { kind: 'system_caller' } : { kind: 'owner' };
  }
  return clientNumberRoute(number);
}

type NumberFacts = { readonly id: string; readonly role: string; readonly status: string; readonly clientId: string | null; readonly phoneNumber: string };

function checkSystemNumber(number: NumberFacts | null): void {
  if (number !== null && (number.role !== 'SYSTEM' || number.clientId !== null)) {
    throw new InvariantViolation('the system number is assigned to a client', { numberId: number.id });
  }
}

function clientNumberRoute(number: (NumberFacts & { readonly client: Client | null }) | null): Route {
  if (number === null || number.status !== 'ASSIGNED') return { kind: 'unknown_number' };
  if (number.role === 'SYSTEM') throw new InvariantViolation('a second SYSTEM number receives texts', { numberId: number.id });
  if (number.client === null) throw new InvariantViolation('an assigned number has no client', { numberId: number.id });
  return { kind: 'customer', client: number.client, clientNumber: number.phoneNumber };
}

/**
 * A {@link Route} decided from one round trip, with the owner's client row when the SMS went
 * to the system number (null: a new owner), so onboarding need not read it again.
 */
export interface LookedUpRoute {
  readonly route: Route;
  /** The sender's client row (system number only; null when there is none). */
  readonly owner?: Client | null;
}

/** One row of {@link lookupRoute}'s statement (and of db/inbound-statements.ts' `routeLookup`): the number texted, and a client. */
export interface RouteRow {
  numberId: string | null;
  numberRole: string | null;
  numberStatus: string | null;
  numberClientId: string | null;
  numberPhone: string | null;
  failsafeSent: boolean;
  id: string | null;
  phone: string;
  businessName: string | null;
  serviceArea: string | null;
  paymentActive: boolean;
  outboundPaused: boolean;
  onboardingState: string;
  stateEnteredAt: Date;
  stuckDetectedAt: Date | null;
  stripeCustomerId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * The first statement of an inbound SMS's transaction, in one round trip instead of three
 * to four: it sets the transaction's statement timeout (`set_config(..., true)` is `SET
 * LOCAL`; it applies from the next statement, this one is a quick indexed read), clears
 * the sender's suppression of our number (they text, so their number works:
 * deliverability/suppression.ts), and reads what {@link route} reads: the number texted, and
 * the client (for the system number: the sender's row, and whether they got the fail-safe
 * text; for a client's number: that client). The client columns are the `Client` model's
 * (test/domain/receive-inbound.test.ts compares them with Prisma's row).
 *
 * Not for keywords (STOP, HELP, START): their processing applies the keyword between the
 * clearing and the routing (deliverability/inbound-keywords.ts).
 *
 * @throws InvariantViolation when the pool contradicts itself, as {@link route}.
 * @example
 * ```ts
 * const { route, owner } = await lookupRoute(tx, sms, deps, 30_000);
 * ```
 */
export async function lookupRoute(
  tx: Tx,
  sms: InboundSms,
  deps: Pick<ProcessingDeps, 'systemNumber' | 'operatorPhones'>,
  statementTimeoutMs: number,
): Promise<LookedUpRoute> {
  const timeout = String(Math.floor(statementTimeoutMs));
  const system = sms.to === deps.systemNumber;
  // Two texts (not one with a flag) so each join is a plain index lookup.
  const rows = system
    ? await tx.$queryRaw<RouteRow[]>`
        WITH "timeout" AS (SELECT set_config('statement_timeout', ${timeout}, true)),
             "cleared" AS (DELETE FROM "sms_suppressions" WHERE "from_phone" = ${sms.to} AND "to_phone" = ${sms.from})
        SELECT n."id" AS "numberId", n."role"::text AS "numberRole", n."status"::text AS "numberStatus", n."client_id" AS "numberClientId", n."phone_number" AS "numberPhone",
               CASE WHEN c."id" IS NULL THEN EXISTS (SELECT 1 FROM "outbound_messages" o WHERE o."to_phone" = ${sms.from} AND o."from_phone" = ${deps.systemNumber} AND o."purpose" = 'failsafe') ELSE false END AS "failsafeSent",
               c."id", c."phone", c."business_name" AS "businessName", c."service_area" AS "serviceArea", c."payment_active" AS "paymentActive", c."outbound_paused" AS "outboundPaused",
               c."onboarding_state"::text AS "onboardingState", c."state_entered_at" AS "stateEnteredAt", c."stuck_detected_at" AS "stuckDetectedAt", c."stripe_customer_id" AS "stripeCustomerId",
               c."created_at" AS "createdAt", c."updated_at" AS "updatedAt"
          FROM "timeout"
          LEFT JOIN "pool_numbers" n ON n."phone_number" = ${sms.to}
          LEFT JOIN "clients" c ON c."phone" = ${sms.from}`
    : await tx.$queryRaw<RouteRow[]>`
        WITH "timeout" AS (SELECT set_config('statement_timeout', ${timeout}, true)),
             "cleared" AS (DELETE FROM "sms_suppressions" WHERE "from_phone" = ${sms.to} AND "to_phone" = ${sms.from})
        SELECT n."id" AS "numberId", n."role"::text AS "numberRole", n."status"::text AS "numberStatus", n."client_id" AS "numberClientId", n."phone_number" AS "numberPhone",
               false AS "failsafeSent",
               c."id", c."phone", c."business_name" AS "businessName", c."service_area" AS "serviceArea", c."payment_active" AS "paymentActive", c."outbound_paused" AS "outboundPaused",
               c."onboarding_state"::text AS "onboardingState", c."state_entered_at" AS "stateEnteredAt", c."stuck_detected_at" AS "stuckDetectedAt", c."stripe_customer_id" AS "stripeCustomerId",
               c."created_at" AS "createdAt", c."updated_at" AS "updatedAt"
          FROM "timeout"
          LEFT JOIN "pool_numbers" n ON n."phone_number" = ${sms.to}
          LEFT JOIN "clients" c ON c."id" = n."client_id"`;
  return routeFromRow(rows[0]!, sms, deps);
}

/**
 * The {@link LookedUpRoute} of one {@link RouteRow} (the route read's only row).
 *
 * @throws InvariantViolation when the pool contradicts itself, as {@link route}.
 * @example
 * ```ts
 * const [row] = await db.sql.run<RouteRow>(routeLookup(sms, deps.systemNumber));
 * const { route, owner } = routeFromRow(row!, sms, deps);
 * ```
 */
export function routeFromRow(row: RouteRow, sms: InboundSms, deps: Pick<ProcessingDeps, 'systemNumber' | 'operatorPhones'>): LookedUpRoute {
  const system = sms.to === deps.systemNumber;
  const number: NumberFacts | null =
    row.numberId === null
      ? null
      : { id: row.numberId, role: row.numberRole!, status: row.numberStatus!, clientId: row.numberClientId, phoneNumber: row.numberPhone! };
  const client = row.id === null ? null : clientOf(row as RouteRow & { id: string });
  if (system) {
    checkSystemNumber(number);
    if ((deps.operatorPhones ?? []).includes(sms.from)) return { route: { kind: 'operator' } };
    if (client === null && row.failsafeSent) return { route: { kind: 'system_caller' } };
    return { route: { kind: 'owner' }, owner: client };
  }
  return { route: clientNumberRoute(number === null ? null : { ...number, client }) };
}

function clientOf(row: RouteRow & { id: string }): Client {
  return {
    id: row.id,
    phone: row.phone,
    businessName: row.businessName,
    serviceArea: row.serviceArea,
    paymentActive: row.paymentActive,
    outboundPaused: row.outboundPaused,
    onboardingState: row.onboardingState as OnboardingState,
    stateEnteredAt: row.stateEnteredAt,
    stuckDetectedAt: row.stuckDetectedAt,
    stripeCustomerId: row.stripeCustomerId,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** What {@link planSms} decided: the result, and the one client change it makes (if any). */
export interface SmsPlan {
  readonly result: ProcessingResult;
  /** The owner's client change; undefined when the message changes no client. */
  readonly step: Exclude<OwnerStep, { kind: 'none' }> | undefined;
  /** The owner's client row, for a `transition` step. */
  readonly owner: Client | null;
}

/**
 * Decides an inbound SMS without writing anything, when what it changes fits one statement
 * with its inbox row (db/inbound-statements.ts): a route that only answers (an operator, a
 * caller of the system number, a number we do not use), or an owner's {@link ownerStep}.
 * Undefined when processing needs the full transaction ({@link processSms}): a customer's
 * message (conversation rows), a number to allocate, the test call, the owner's commands.
 *
 * @throws What the extractor throws.
 * @example
 * ```ts
 * const plan = await planSms(routeFromRow(row, sms, deps), sms, deps);
 * ```
 */
export async function planSms(lookedUp: LookedUpRoute, sms: InboundSms, deps: ProcessingDeps): Promise<SmsPlan | undefined> {
  const target = lookedUp.route;
  if (target.kind === 'customer') return undefined;
  if (target.kind !== 'owner') return { result: replyOnly(target.kind), step: undefined, owner: null };
  const owner = lookedUp.owner ?? null;
  const step = await ownerStep(owner, sms.body, deps);
  return step === undefined ? undefined : ownerPlan(step, owner);
}

/**
 * The {@link SmsPlan} of an owner's {@link OwnerStep}.
 *
 * @example
 * ```ts
 * const plan = ownerPlan(await welcomeStep(sms.body, deps), null);
 * ```
 */
export function ownerPlan(step: OwnerStep, owner: Client | null): SmsPlan {
  return { result: { route: 'owner', reply: step.reply, urgent: false, events: [] }, step: step.kind === 'none' ? undefined : step, owner };
}

/** The result of a route that answers without changing anything. */
function replyOnly(kind: 'operator' | 'system_caller' | 'unknown_number'): ProcessingResult {
  const reply = kind === 'operator' ? texts.operatorAck : kind === 'system_caller' ? texts.systemCallerAck : texts.failsafe;
  return { route: kind, reply, urgent: false, events: [] };
}

/**
 * Processes an inbound SMS inside the caller's transaction: routes it (unless `lookedUp`
 * already did, see {@link lookupRoute}), applies the business rules, and returns the reply.
 * Any error rolls every write back.
 */
export async function processSms(tx: Tx, sms: InboundSms, deps: ProcessingDeps, lookedUp?: LookedUpRoute): Promise<ProcessingResult> {
  const target = lookedUp?.route ?? (await route(tx, sms, deps.systemNumber, deps.operatorPhones));
  switch (target.kind) {
    case 'operator':
    case 'system_caller':
    case 'unknown_number':
      return replyOnly(target.kind);
    case 'owner': {
      const result = await handleOwnerMessage(tx, sms.from, sms.body, deps, lookedUp?.owner);
      return { route: 'owner', reply: result.reply, urgent: false, events: result.events };
    }
    case 'customer': {
      const result = await handleCustomerMessage(tx, {
        client: target.client,
        clientNumber: target.clientNumber,
        customerPhone: sms.from,
        text: sms.body,
        messageSid: sms.messageSid,
        extractor: deps.extractor,
      });
      return { route: 'customer', reply: result.reply, urgent: result.urgent, events: [] };
    }
  }
}
