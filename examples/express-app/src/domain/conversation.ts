import type { Client, Conversation } from '../db/generated/client.js';
import type { Tx } from '../db/types.js';
import type { Extractor } from './extractor.js';
import { texts } from './messages.js';
import { enqueueSms } from './outbox.js';

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
      await enqueueSms(tx, { to: client.phone, from: clientNumber, body: texts.ownerUrgent(customerPhone, text), purpose: 'owner_urgent', conversationId: conversation.id });
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
 * business's name (a deflection while the owner paused texts: a caller is never left in
 * silence). Runs in the caller's transaction; the SMS goes through the outbox.
 *
 * @returns The outbox row's id.
 */
export async function handleMissedCall(tx: Tx, input: { client: Client; clientNumber: string; callerPhone: string }): Promise<string> {
  const { client, clientNumber, callerPhone } = input;
  const business = client.businessName ?? 'us';
  const conversation = await customerConversation(tx, client, callerPhone);
  const body = client.outboundPaused ? texts.deflection(client.businessName ?? 'We') : texts.missedCall(business);
  await tx.message.create({ data: { conversationId: conversation.id, direction: 'OUTBOUND', body } });
  return enqueueSms(tx, { to: callerPhone, from: clientNumber, body, purpose: 'missed_call', conversationId: conversation.id });
}
