import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePostgres } from '@hardening/test-support';
import type { Database } from '../../src/db/database.js';
import { addNumbers } from '../../src/domain/number-pool.js';
import { activatePayment, allocateWaitingClients, completeTestCall } from '../../src/domain/onboarding.js';
import { ReplyChannel } from '../../src/domain/reply-channel.js';
import { freshDatabase, type Backend } from '../support/databases.js';
import { systemNumber, text, withSmsDatabase } from '../support/sms.js';

const pgUp = await requirePostgres();
const backends: Backend[] = pgUp ? ['pglite', 'postgres'] : ['pglite'];
const owner = '+15552220001';

const replyOf = (outcome: Awaited<ReturnType<typeof text>>) => (outcome.kind === 'processed' ? outcome.result.reply : undefined);

describe.each(backends)('onboarding by SMS on %s', (backend) => {
  let db: Database;
  withSmsDatabase(backend, 'onboarding', (opened) => (db = opened));

  const state = async () => (await db.prisma.client.findUniqueOrThrow({ where: { phone: owner } })).onboardingState;

  it('walks S1 -> COMPLETE, waiting for a number, a payment and the test call', async () => {
    expect(replyOf(await text(db, owner, systemNumber, 'hi'))).toMatch(/name of your business/);
    expect(await state()).toBe('S1_WELCOME');
    expect(replyOf(await text(db, owner, systemNumber, "It's Ace Plumbing."))).toBe('Thanks! What area does Ace Plumbing serve?');
    expect(await state()).toBe('S2_BUSINESS_NAME');

    // The pool is empty: the owner is told, and waits in S3.
    const empty = await text(db, owner, systemNumber, 'We serve Springfield');
    expect(empty.kind === 'processed' && empty.result.events).toEqual([{ type: 'POOL_EMPTY', clientId: expect.any(String) }]);
    expect(await state()).toBe('S3_SERVICE_AREA');

    // Restocking gives the waiting client a number and texts them (outbox).
    await addNumbers(db.prisma, ['+15559990101']);
    expect(await allocateWaitingClients(db.prisma, systemNumber)).toBe(1);
    expect(await state()).toBe('S4_NUMBER_ALLOCATED');
    const told = await db.prisma.outboundMessage.findFirstOrThrow({ where: { toPhone: owner, purpose: 'number_ready' } });
    expect(told.body).toContain('+15559990101');

    expect(replyOf(await text(db, owner, systemNumber, 'maybe'))).toMatch(/Reply YES/);
    expect(replyOf(await text(db, owner, systemNumber, 'yes'))).toMatch(/activate your subscription at https:\/\/pay\.example\.test\//);
    expect(await state()).toBe('S5_CONFIRM_LIVE');

    const client = await db.prisma.client.findUniqueOrThrow({ where: { phone: owner } });
    await db.prisma.$transaction((tx) => activatePayment(tx, client.id, systemNumber));
    expect(await state()).toBe('S9_TEST_CALL');
    expect((await db.prisma.outboundMessage.findFirstOrThrow({ where: { toPhone: owner, purpose: 'payment' } })).body).toMatch(/call \+15559990101/);

    const waiting = await db.prisma.client.findUniqueOrThrow({ where: { phone: owner } });
    expect(await db.prisma.$transaction((tx) => completeTestCall(tx, waiting, systemNumber))).toBe(true);
    expect(await state()).toBe('COMPLETE');

    expect(replyOf(await text(db, owner, systemNumber, 'pause'))).toMatch(/^Paused/);
    expect((await db.prisma.client.findUniqueOrThrow({ where: { phone: owner } })).outboundPaused).toBe(true);
    expect(replyOf(await text(db, owner, systemNumber, 'RESUME'))).toMatch(/^Resumed/);
  });

  it('a customer of a live client gets an acknowledgement; an urgent one alerts the owner', async () => {
    const customer = '+15553330001';
    const clientNumber = '+15559990101';
    expect(replyOf(await text(db, customer, clientNumber, 'Can you quote a new boiler?'))).toMatch(/Ace Plumbing got your message/);
    expect(replyOf(await text(db, customer, clientNumber, 'Water is flooding the kitchen!'))).toMatch(/urgent/);
    const alert = await db.prisma.outboundMessage.findFirstOrThrow({ where: { purpose: 'owner_urgent' } });
    expect(alert).toMatchObject({ toPhone: owner, fromPhone: clientNumber });
    const conversation = await db.prisma.conversation.findFirstOrThrow({ where: { customer: { phone: customer } }, include: { messages: true } });
    expect(conversation.mode).toBe('OPERATIONAL');
    expect(conversation.messages.filter((m) => m.direction === 'INBOUND')).toHaveLength(2);
  });

  it('a text to a number nobody uses gets the fail-safe reply, not silence', async () => {
    expect(replyOf(await text(db, '+15554440001', '+15557770000', 'hello?'))).toMatch(/Sorry we missed your call/);
  });

  it('when the webhook gave up waiting, the reply goes to the outbox in the same transaction', async () => {
    const channel = new ReplyChannel();
    expect(channel.close()).toBe(true);
    const outcome = await text(db, '+15553330002', '+15559990101', 'are you open saturday?', channel);
    expect(outcome.kind === 'processed' && outcome.viaTwiml).toBe(false);
    expect(await db.prisma.outboundMessage.count({ where: { toPhone: '+15553330002', purpose: 'reply' } })).toBe(1);
  });
});

describe.skipIf(!pgUp)('number pool under concurrency (PostgreSQL)', () => {
  let db: Database;
  beforeAll(async () => {
    db = await freshDatabase('postgres', 'pool');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('20 clients allocating at once from 10 numbers: 10 distinct numbers, 10 without', async () => {
    const { allocateNumber } = await import('../../src/domain/number-pool.js');
    await addNumbers(
      db.prisma,
      Array.from({ length: 10 }, (_, i) => `+1555999${String(1000 + i)}`),
    );
    const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => db.prisma.client.create({ data: { phone: `+1555222${String(3000 + i)}` } })));
    const results = await Promise.all(clients.map((c) => db.prisma.$transaction((tx) => allocateNumber(tx, c.id))));
    const numbers = results.filter((n) => n !== undefined).map((n) => n.phoneNumber);
    expect(numbers).toHaveLength(10);
    expect(new Set(numbers).size).toBe(10);
    expect(await db.prisma.poolNumber.count({ where: { status: 'AVAILABLE' } })).toBe(0);
  });
});
