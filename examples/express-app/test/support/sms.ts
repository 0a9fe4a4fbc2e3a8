import { randomBytes } from 'node:crypto';
import type { Database } from '../../src/db/database.js';
import { deterministicExtractor } from '../../src/domain/extractor.js';
import { processInbound, recordInbound } from '../../src/domain/inbound.js';
import type { ReplyChannel } from '../../src/domain/reply-channel.js';
import type { ProcessingDeps } from '../../src/domain/routing.js';

export const systemNumber = '+15550000000';

export const deps: ProcessingDeps = {
  extractor: deterministicExtractor,
  systemNumber,
  paymentLink: (clientId) => `https://pay.example.test/${clientId}`,
};

/** A Twilio-like MessageSid. */
export const messageSid = () => `SM${randomBytes(16).toString('hex')}`;

/** Records and processes one SMS as the webhook would, replying through TwiML. */
export async function text(db: Database, from: string, to: string, body: string, channel?: ReplyChannel) {
  const sms = { messageSid: messageSid(), from, to, body };
  const inbox = await recordInbound(db.prisma, sms, { MessageSid: sms.messageSid, From: from, To: to, Body: body });
  return processInbound(db.prisma, inbox.id, deps, channel);
}
