import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { deterministicExtractor } from '../../src/domain/extractor.js';
import { processInbound, recordInbound } from '../../src/domain/inbound.js';
import { addNumbers } from '../../src/domain/number-pool.js';
import type { ReplyChannel } from '../../src/domain/reply-channel.js';
import type { ProcessingDeps } from '../../src/domain/routing.js';
import { freshDatabase, type Backend } from './databases.js';

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

/**
 * Gives the enclosing `describe` block a fresh database on `backend` with the system number
 * in its pool, handed to `use` before its tests run; it is closed (and dropped) after them.
 */
export function withSmsDatabase(backend: Backend, label: string, use: (db: Database) => void): void {
  let db: Database | undefined;
  beforeAll(async () => {
    db = await freshDatabase(backend, label);
    await addNumbers(db.prisma, [systemNumber], 'SYSTEM');
    use(db);
  });
  afterAll(async () => {
    await db?.close();
  });
}
