import type { Client, Conversation } from '../db/generated/client.js';
import type { DbOrTx, Tx } from '../db/types.js';
import type { Extractor } from './extractor.js';
import { texts } from './messages.js';
import { enqueueSms, enqueueSmsOnce } from './outbox.js';

async function customerConversation(tx: Tx, client: Client, customerPhone: string): Promise<Conversation> {
  const customer = await tx.customer.upsert({
    where: { clientId_phone: { clientId: client.id, phone: customerPhone } },
    create: { clientId: client.id, phone: customerPhone },
    update: {},
  });
  return tx.conversation.upsert({
    where: { clientId_customerId_mode: { clientId: client.id, customerId: customer.id, mode: 'OPERATIONAL' } },
    create: { clientId: client.id, customerId: customer.id, mode: 'OPERATIONAL' },
    update: { updatedAt: new Date() },
  });
}

/** What handling a customer's text decided. */
export interface CustomerReply {
  readonly reply: string;
  readonly urgent: boolean;
  readonly conversationId: string;
}

/**
 * A customer texted a client's number: the message joins the conversation, an urgent one
 * texts the owner (through the outbox), and the customer gets an acknowledgement (or a
 * polite deflection while the owner paused outbound texts). Runs in the caller's
 * transaction.
 */
export async function handleCustomerMessage(
  tx: Tx,
  input: { client: Client; clientNumber: string; customerPhone: string; text: string; messageSid: string; extractor: Extractor },
): Promise<CustomerReply> {
  const { client, clientNumber, customerPhone, text, messageSid, extractor } = input;
  const business = client.businessName ?? 'We';
  const conversation = await customerConversation(tx, client, customerPhone);
  await tx.message.create({ data: { conversationId: conversation.id, direction: 'INBOUND', body: text, twilioSid: messageSid } });
  let reply: string;
  let urgent = false;
  if (client.outboundPaused) {
    reply = texts.deflection(business);
  } else {
    ({ urgent } = await extractor.extract('customer_message', text));
    if (urgent) {
      await enqueueSms(tx, {
        to: client.phone,
        from: clientNumber,
        body: texts.ownerUrgent(customerPhone, text),
        purpose: 'owner_urgent',
        conversationId: conversation.id,
      });
      reply = texts.customerUrgentAck(business);
    } else {
      reply = texts.customerAck(business);
    }
  }
  await tx.message.create({ data: { conversationId: conversation.id, direction: 'OUTBOUND', body: reply } });
  return { reply, urgent, conversationId: conversation.id };
}

/**
 * A customer's call to a client's number was not answered: text them back in the
 * business's name (a short note that they will get back to the caller while the owner
 * paused texts: a caller is never left in silence). Runs in the caller's transaction; the
 * SMS goes through the outbox, once per CallSid (the outbox's send key), so a redelivered
 * status callback texts nobody twice even when the idempotency store forgot it.
 *
 * @returns The outbox row's id, or undefined when this call was texted already.
 */
export async function handleMissedCall(
  tx: Tx,
  input: { client: Client; clientNumber: string; callerPhone: string; callSid: string },
): Promise<string | undefined> {
  const { client, clientNumber, callerPhone, callSid } = input;
  const conversation = await customerConversation(tx, client, callerPhone);
  const body = missedCallText(client);
  const id = await enqueueSmsOnce(tx, {
    to: callerPhone,
    from: clientNumber,
    body,
    purpose: 'missed_call',
    conversationId: conversation.id,
    sendKey: missedCallSendKey(callSid),
  });
  if (id !== undefined) await tx.message.create({ data: { conversationId: conversation.id, direction: 'OUTBOUND', body } });
  return id;
}

/**
 * The text a missed call to a client's number gets: in the business's name, or a polite
 * deflection while the owner paused outbound texts.
 *
 * @example
 * ```ts
 * missedCallText({ businessName: 'Ace Plumbing', outboundPaused: false }); // "Sorry we missed your call at Ace Plumbing! ..."
 * ```
 */
export function missedCallText(client: Pick<Client, 'businessName' | 'outboundPaused'>): string {
  return client.outboundPaused ? texts.missedCallPaused(client.businessName ?? 'We') : texts.missedCall(client.businessName ?? 'us');
}

/**
 * The client whose assigned number `phoneNumber` is, or null when it is no client's (the
 * system number, a number still in the pool, one never ours).
 *
 * @example
 * ```ts
 * const client = await clientOfNumber(prisma, '+15551230002'); // the client, or null
 * ```
 */
export async function clientOfNumber(db: DbOrTx, phoneNumber: string): Promise<Client | null> {
  const number = await db.poolNumber.findUnique({ where: { phoneNumber }, include: { client: true } });
  return number?.status === 'ASSIGNED' && number.role === 'CLIENT' ? number.client : null;
}

/** The outbox send key of the one text a missed call gets (the business's, or the fail-safe). */
export function missedCallSendKey(callSid: string): string {
  return `missed_call:${callSid}`;
}
