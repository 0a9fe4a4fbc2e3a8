// The atomic receive of an inbound SMS (domain/receive-inbound.ts: one statement on the hot
// path, one transaction otherwise), on PGlite and PostgreSQL: what commits together, what a failure leaves behind (nothing, then the row
// recordFailedInbound writes), and how a MessageSid already in the inbox is answered.
import { describe, expect, it } from 'vitest';
import { requirePostgres } from '@hardening/test-support';
import type { Database } from '../../src/db/database.js';
import type { Extractor } from '../../src/domain/extractor.js';
import { deterministicExtractor } from '../../src/domain/extractor.js';
import { processInbound, recordInbound } from '../../src/domain/inbound.js';
import { texts } from '../../src/domain/messages.js';
import { newInboxRow, receiveInbound, recordFailedInbound, recordReceivedInbound } from '../../src/domain/receive-inbound.js';
import { ReplyChannel } from '../../src/domain/reply-channel.js';
import { lookupRoute, type InboundSms } from '../../src/domain/routing.js';
import type { Backend } from '../support/databases.js';
import { deps, messageSid, systemNumber, withSmsDatabase } from '../support/sms.js';

const pgUp = await requirePostgres();
const backends: Backend[] = pgUp ? ['pglite', 'postgres'] : ['pglite'];

let phones = 0;
const phone = () => `+1555333${String(phones++).padStart(4, '0')}`;
const smsOf = (from: string, body: string, to = systemNumber): InboundSms => ({ messageSid: messageSid(), from, to, body });
const paramsOf = (sms: InboundSms) => ({ MessageSid: sms.messageSid, From: sms.from, To: sms.to, Body: sms.body });
const failing: Extractor = {
  name: 'failing',
  extract: () => Promise.reject(new Error('extractor down')),
};

describe.each(backends)('receiving an inbound SMS in one transaction on %s', (backend) => {
  let db: Database;
  withSmsDatabase(backend, 'receive', (opened) => (db = opened));
  const receive = (sms: InboundSms, channel = new ReplyChannel(), extractor: Extractor = deterministicExtractor) =>
    receiveInbound(db, sms, paramsOf(sms), { ...deps, extractor }, channel, newInboxRow(null));
  const inbox = (sms: InboundSms) => db.prisma.inboundEvent.findUnique({ where: { messageSid: sms.messageSid } });

  it('a new owner: the client row and the processed inbox row (with its reply) commit together, the reply in the TwiML', async () => {
    const owner = phone();
    const sms = smsOf(owner, 'Hi');
    const outcome = await receive(sms);
    expect(outcome).toMatchObject({ kind: 'processed', viaTwiml: true, result: { route: 'owner', reply: texts.welcome } });
    expect(await inbox(sms)).toMatchObject({
      id: outcome.inboxId,
      status: 'processed',
      attempts: 1,
      reply: texts.welcome,
      replyVia: 'twiml',
      payload: paramsOf(sms),
    });
    expect(await db.prisma.client.findUnique({ where: { phone: owner } })).toMatchObject({ onboardingState: 'S1_WELCOME' });
    expect(await db.prisma.outboundMessage.count({ where: { toPhone: owner } })).toBe(0);

    // The onboarding reply reads the client in the route lookup and moves it on.
    const reply = await receive(smsOf(owner, "It's Ace Plumbing"));
    expect(reply).toMatchObject({ kind: 'processed', result: { reply: texts.askServiceArea('Ace Plumbing') } });
    expect(await db.prisma.client.findUnique({ where: { phone: owner } })).toMatchObject({ onboardingState: 'S2_BUSINESS_NAME', businessName: 'Ace Plumbing' });
  });

  it('the route lookup reads the client row exactly as Prisma does (every column of the model)', async () => {
    const owner = phone();
    await receive(smsOf(owner, 'Hi'));
    const prismaRow = await db.prisma.client.findUniqueOrThrow({ where: { phone: owner } });
    const looked = await db.prisma.$transaction(async (tx) => lookupRoute(tx, smsOf(owner, 'hello'), deps, 30_000));
    expect(looked).toEqual({ route: { kind: 'owner' }, owner: prismaRow });
    const fresh = await db.prisma.$transaction(async (tx) => lookupRoute(tx, smsOf(phone(), 'hello'), deps, 30_000));
    expect(fresh).toEqual({ route: { kind: 'owner' }, owner: null });
  });

  it('a closed reply channel: the reply goes to the outbox in the same transaction', async () => {
    const owner = phone();
    const channel = new ReplyChannel();
    channel.close();
    const sms = smsOf(owner, 'Hi');
    expect(await receive(sms, channel)).toMatchObject({ kind: 'processed', viaTwiml: false });
    expect(await inbox(sms)).toMatchObject({ status: 'processed', replyVia: 'outbox' });
    expect(await db.prisma.outboundMessage.findMany({ where: { toPhone: owner } })).toMatchObject([
      { body: texts.welcome, purpose: 'onboarding', fromPhone: systemNumber },
    ]);
  });

  it('the same MessageSid again: rolled back, answered with the stored first answer, nothing written twice', async () => {
    const owner = phone();
    const sms = smsOf(owner, 'Hi');
    const first = await receive(sms);
    const again = await receive(sms);
    expect(again).toEqual({ kind: 'already_processed', answer: { via: 'twiml', reply: texts.welcome }, inboxId: first.inboxId });
    expect(await db.prisma.client.count({ where: { phone: owner } })).toBe(1);
    expect(await db.prisma.inboundEvent.count({ where: { messageSid: sms.messageSid } })).toBe(1);
  });

  it('a failure stores nothing; recordFailedInbound then keeps the event as a failed row that a retry processes once', async () => {
    const owner = phone();
    await receive(smsOf(owner, 'Hi'));
    const sms = smsOf(owner, "It's Bob's Boilers");
    const error = await receive(sms, new ReplyChannel(), failing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(await inbox(sms)).toBeNull();
    expect(await db.prisma.client.findUnique({ where: { phone: owner } })).toMatchObject({ onboardingState: 'S1_WELCOME' });

    const failed = await recordFailedInbound(db.prisma, sms, paramsOf(sms), newInboxRow(null), error);
    expect(failed).toMatchObject({ status: 'failed', recorded: true });
    expect(await inbox(sms)).toMatchObject({ id: failed.id, status: 'failed', attempts: 1, lastError: 'extractor down', payload: paramsOf(sms) });
    // A Twilio retry of the failed delivery processes the stored row now.
    // The failed delivery was answered with the holding text: the reply goes through the outbox.
    const retried = await receive(sms);
    expect(retried).toMatchObject({ kind: 'processed', inboxId: failed.id, viaTwiml: false, result: { reply: texts.askServiceArea("Bob's Boilers") } });
    expect(await db.prisma.outboundMessage.findMany({ where: { toPhone: owner } })).toMatchObject([{ body: texts.askServiceArea("Bob's Boilers") }]);
    expect(await inbox(sms)).toMatchObject({ status: 'processed', attempts: 2 });
    // A processed row is never marked failed again; its answer comes back instead.
    expect(await recordFailedInbound(db.prisma, sms, paramsOf(sms), newInboxRow(null), new Error('late'))).toEqual({
      id: failed.id,
      status: 'processed',
      recorded: false,
      answer: { via: 'outbox' },
    });
    expect(await inbox(sms)).toMatchObject({ status: 'processed', attempts: 2 });
  });

  it("too slow for the webhook: the delivery's own received row is taken over when the transaction commits, another delivery's is not", async () => {
    const owner = phone();
    const sms = smsOf(owner, 'Hi');
    const own = newInboxRow(null);
    await recordReceivedInbound(db.prisma, sms, paramsOf(sms), own);
    expect(await inbox(sms)).toMatchObject({ id: own.id, status: 'received', attempts: 0 });
    const channel = new ReplyChannel();
    channel.close();
    const outcome = await receiveInbound(db, sms, paramsOf(sms), deps, channel, own);
    expect(outcome).toMatchObject({ kind: 'processed', inboxId: own.id, viaTwiml: false });
    expect(await inbox(sms)).toMatchObject({ id: own.id, status: 'processed', attempts: 1, reply: texts.welcome, replyVia: 'outbox' });
    expect(await db.prisma.outboundMessage.count({ where: { toPhone: owner } })).toBe(1);
    expect(await db.prisma.client.count({ where: { phone: owner } })).toBe(1);
  });

  it('a row the spool drain stored first (received): processed under its row lock, once', async () => {
    const owner = phone();
    const sms = smsOf(owner, 'Hi');
    const stored = await recordInbound(db.prisma, sms, paramsOf(sms));
    const outcome = await receive(sms);
    expect(outcome).toMatchObject({ kind: 'processed', inboxId: stored.id, viaTwiml: false, result: { reply: texts.welcome } });
    expect(await processInbound(db.prisma, stored.id, deps)).toMatchObject({ kind: 'already_processed' });
    expect(await db.prisma.client.count({ where: { phone: owner } })).toBe(1);
  });

  it('the client moved on between the route read and the write: the one statement writes nothing, the full transaction processes it once', async () => {
    const owner = phone();
    await receive(smsOf(owner, 'Hi'));
    // Another message of this owner commits its step while this one is being extracted
    // (between the hot path's read and its write).
    let moved = false;
    const racing: Extractor = {
      name: 'racing',
      async extract(goal, text) {
        if (!moved) {
          moved = true;
          await db.prisma.client.update({ where: { phone: owner }, data: { onboardingState: 'S2_BUSINESS_NAME', businessName: 'First Name Plumbing' } });
        }
        return deterministicExtractor.extract(goal, text);
      },
    };
    const sms = smsOf(owner, 'Springfield');
    const outcome = await receive(sms, new ReplyChannel(), racing);
    // Processed once, from the state the other message left: the area, not a second name.
    expect(outcome).toMatchObject({ kind: 'processed', viaTwiml: true, result: { reply: texts.poolEmpty } });
    expect(await db.prisma.client.findUnique({ where: { phone: owner } })).toMatchObject({
      onboardingState: 'S3_SERVICE_AREA',
      businessName: 'First Name Plumbing',
      serviceArea: 'Springfield',
    });
    expect(await inbox(sms)).toMatchObject({ status: 'processed', attempts: 1, reply: texts.poolEmpty, replyVia: 'twiml' });
  });

  it("clears the sender's suppression of our number, and still applies keywords (STOP) before routing", async () => {
    const owner = phone();
    await db.prisma.smsSuppression.create({ data: { fromPhone: systemNumber, toPhone: owner, errorCode: 30003, reason: 'unreachable' } });
    await receive(smsOf(owner, 'Hi'));
    expect(await db.prisma.smsSuppression.count({ where: { fromPhone: systemNumber, toPhone: owner } })).toBe(0);
    const stop = await receive(smsOf(owner, 'STOP'));
    expect(stop).toMatchObject({ kind: 'processed', result: { route: 'compliance', reply: texts.optedOut } });
  });
});
