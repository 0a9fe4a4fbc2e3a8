import type { Client } from '../db/generated/client.js';
import type { Tx } from '../db/types.js';
import { handleCustomerMessage } from './conversation.js';
import { InvariantViolation } from './errors.js';
import type { Extractor } from './extractor.js';
import { texts } from './messages.js';
import type { OnboardingEvent } from './onboarding.js';
import { handleOwnerMessage } from './onboarding.js';

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
    if (number !== null && (number.role !== 'SYSTEM' || number.clientId !== null)) {
      throw new InvariantViolation('the system number is assigned to a client', { numberId: number.id });
    }
    if (operatorPhones.includes(sms.from)) return { kind: 'operator' };
    // One indexed lookup: a sender with no client row yet who got the system number's
    // fail-safe text (outbox rows are looked up by phone only for a first text).
    const [row] = await tx.$queryRaw<Array<{ caller: boolean }>>`
      SELECT NOT EXISTS (SELECT 1 FROM "clients" WHERE "phone" = ${sms.from})
         AND EXISTS (SELECT 1 FROM "outbound_messages" WHERE "to_phone" = ${sms.from} AND "from_phone" = ${systemNumber} AND "purpose" = 'failsafe') AS caller`;
    return row?.caller === true ? { kind: 'system_caller' } : { kind: 'owner' };
  }
  if (number === null || number.status !== 'ASSIGNED') return { kind: 'unknown_number' };
  if (number.role === 'SYSTEM') throw new InvariantViolation('a second SYSTEM number receives texts', { numberId: number.id });
  if (number.client === null) throw new InvariantViolation('an assigned number has no client', { numberId: number.id });
  return { kind: 'customer', client: number.client, clientNumber: number.phoneNumber };
}

/**
 * Processes an inbound SMS inside the caller's transaction: routes it, applies the
 * business rules, and returns the reply. Any error rolls every write back.
 */
export async function processSms(tx: Tx, sms: InboundSms, deps: ProcessingDeps): Promise<ProcessingResult> {
  const target = await route(tx, sms, deps.systemNumber, deps.operatorPhones);
  switch (target.kind) {
    case 'operator':
      return { route: 'operator', reply: texts.operatorAck, urgent: false, events: [] };
    case 'system_caller':
      return { route: 'system_caller', reply: texts.systemCallerAck, urgent: false, events: [] };
    case 'owner': {
      const result = await handleOwnerMessage(tx, sms.from, sms.body, deps);
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
    case 'unknown_number':
      return { route: 'unknown_number', reply: texts.failsafe, urgent: false, events: [] };
  }
}
