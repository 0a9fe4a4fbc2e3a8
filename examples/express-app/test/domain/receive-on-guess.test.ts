// The hot path on a guess of the sender's client row (domain/receive-inbound.ts'
// receiveOnGuess, domain/known-owners.ts), on PGlite and PostgreSQL: one statement when the
// guess holds, and when it does not (another instance, an admin, a restart moved the row
// on), nothing written on it and the message processed once from the row as it is.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { requirePostgres } from '@hardening/test-support';
import type { Database } from '../../src/db/database.js';
import { guessedRoute, receiveNewOwnerOnGuess, routeLookup, type GuessedWriteRow } from '../../src/db/inbound-statements.js';
import type { Statement } from '../../src/db/named-statement.js';
import { poolRunner } from '../../src/db/statement-runner.js';
import type { Extractor } from '../../src/domain/extractor.js';
import { KnownOwners } from '../../src/domain/known-owners.js';
import { texts } from '../../src/domain/messages.js';
import { addNumbers } from '../../src/domain/number-pool.js';
import { newInboxRow, receiveInbound } from '../../src/domain/receive-inbound.js';
import { ReplyChannel } from '../../src/domain/reply-channel.js';
import type { InboundSms, RouteRow } from '../../src/domain/routing.js';
import { freshDatabase, type Backend } from '../support/databases.js';
import { deps, messageSid, systemNumber, withSmsDatabase } from '../support/sms.js';

const pgUp = await requirePostgres();
const backends: Backend[] = pgUp ? ['pglite', 'postgres'] : ['pglite'];

let phones = 0;
const phone = () => `+1555344${String(phones++).padStart(4, '0')}`;
const smsOf = (from: string, body: string): InboundSms => ({ messageSid: messageSid(), from, to: systemNumber, body });
const paramsOf = (sms: InboundSms) => ({ MessageSid: sms.messageSid, From: sms.from, To: sms.to, Body: sms.body });
const noName: Extractor = { name: 'no-name', extract: () => Promise.resolve({ urgent: false }) };
const failing: Extractor = { name: 'failing', extract: () => Promise.reject(new Error('extractor down')) };

describe.each(backends)('receiving an inbound SMS on a guess of the client row on %s', (backend) => {
  let db: Database;
  withSmsDatabase(backend, 'guess', (opened) => (db = opened));

  /** One app instance: its own KnownOwners, and the hot path's statements it ran (by name). */
  function instance() {
    const known = new KnownOwners();
    const statements: string[] = [];
    const counted = {
      prisma: db.prisma,
      sql: {
        run: <Row>(statement: Statement) => {
          statements.push(statement.name);
          return db.sql.run<Row>(statement);
        },
        runBuilt: <Row>(build: () => Statement) =>
          db.sql.runBuilt<Row>(() => {
            const statement = build();
            statements.push(statement.name);
            return statement;
          }),
      },
    };
    const receive = (sms: InboundSms, extractor: Extractor = deps.extractor) => {
      statements.length = 0;
      return receiveInbound(counted, sms, paramsOf(sms), { ...deps, extractor, knownOwners: known }, new ReplyChannel(), newInboxRow(null));
    };
    return { known, statements, receive };
  }
  const client = (owner: string) => db.prisma.client.findUnique({ where: { phone: owner } });
  const inbox = (sms: InboundSms) => db.prisma.inboundEvent.findUnique({ where: { messageSid: sms.messageSid } });

  it('a new owner and their business name: one statement each, no route read first', async () => {
    const app = instance();
    const owner = phone();
    expect(await app.receive(smsOf(owner, 'Hi'))).toMatchObject({ kind: 'processed', viaTwiml: true, result: { reply: texts.welcome } });
    expect(app.statements).toEqual(['sms_guess_new_owner']);
    const created = await client(owner);
    expect(app.known.get(owner)).toEqual({ id: created!.id, state: 'S1_WELCOME' });

    const named = smsOf(owner, "It's Ace Plumbing");
    expect(await app.receive(named)).toMatchObject({ kind: 'processed', result: { reply: texts.askServiceArea('Ace Plumbing') } });
    expect(app.statements).toEqual(['sms_guess_transition']);
    expect(await client(owner)).toMatchObject({ onboardingState: 'S2_BUSINESS_NAME', businessName: 'Ace Plumbing' });
    expect(await inbox(named)).toMatchObject({ status: 'processed', attempts: 1, reply: texts.askServiceArea('Ace Plumbing') });
    expect(app.known.get(owner)).toEqual({ id: created!.id, state: 'S2_BUSINESS_NAME' });
  });

  it('an answer that only asks again: one statement, the row unchanged', async () => {
    const app = instance();
    const owner = phone();
    await app.receive(smsOf(owner, 'Hi'));
    const unclear = smsOf(owner, '???');
    expect(await app.receive(unclear, noName)).toMatchObject({ kind: 'processed', result: { reply: texts.askNameAgain } });
    expect(app.statements).toEqual(['sms_guess_no_change']);
    expect(await client(owner)).toMatchObject({ onboardingState: 'S1_WELCOME', businessName: null });
    expect(await inbox(unclear)).toMatchObject({ status: 'processed', reply: texts.askNameAgain });
  });

  it('an owner another instance created: the new-owner guess writes nothing, the plain write moves the row it read, once', async () => {
    const [a, b] = [instance(), instance()];
    const owner = phone();
    await b.receive(smsOf(owner, 'Hi'));
    const named = smsOf(owner, 'Bob Boilers');
    expect(await a.receive(named)).toMatchObject({ kind: 'processed', result: { reply: texts.askServiceArea('Bob Boilers') } });
    expect(a.statements).toEqual(['sms_guess_new_owner', 'sms_receive_transition']);
    expect(await db.prisma.client.count({ where: { phone: owner } })).toBe(1);
    expect(await client(owner)).toMatchObject({ onboardingState: 'S2_BUSINESS_NAME', businessName: 'Bob Boilers' });
    expect(await inbox(named)).toMatchObject({ status: 'processed', attempts: 1 });
    expect(a.known.get(owner)).toMatchObject({ state: 'S2_BUSINESS_NAME' });
  });

  it('a wrong guess returns the route as the route read reads it, and writes nothing', async () => {
    const owner = phone();
    await instance().receive(smsOf(owner, 'Hi'));
    await db.prisma.client.update({ where: { phone: owner }, data: { businessName: 'Ace', stuckDetectedAt: new Date('2026-12-01T10:11:12.345Z') } });
    const sms = smsOf(owner, 'Hello again');
    const write = { inboxId: randomUUID(), sms, payloadJson: JSON.stringify(paramsOf(sms)), reply: 'r', traceparent: null, outbox: null };
    const [wrong] = await db.sql.run<GuessedWriteRow>(receiveNewOwnerOnGuess(randomUUID(), write));
    const [read] = await db.sql.run<RouteRow>(routeLookup(sms, systemNumber));
    expect(wrong!.inboxId).toBeNull();
    expect(guessedRoute(wrong!.route!)).toEqual(read);
    expect(read).toMatchObject({ businessName: 'Ace', stuckDetectedAt: new Date('2026-12-01T10:11:12.345Z'), onboardingState: 'S1_WELCOME' });
    expect(await inbox(sms)).toBeNull();

    const [held] = await db.sql.run<GuessedWriteRow>(receiveNewOwnerOnGuess(randomUUID(), { ...write, sms: smsOf(phone(), 'Hi') }));
    expect(held).toEqual({ inboxId: write.inboxId, route: null });
  });

  it('a stale guess (another instance moved the owner on): nothing written on it, the full path processes the message once', async () => {
    const [a, b] = [instance(), instance()];
    const owner = phone();
    await a.receive(smsOf(owner, 'Hi'));
    await b.receive(smsOf(owner, 'First Name Plumbing')); // b moves it to S2; a still knows S1
    expect(a.known.get(owner)).toMatchObject({ state: 'S1_WELCOME' });

    const area = smsOf(owner, 'Springfield');
    const outcome = await a.receive(area);
    // The area, from the state b left, not a second business name.
    expect(outcome).toMatchObject({ kind: 'processed', viaTwiml: true, result: { reply: texts.poolEmpty } });
    expect(a.statements).toEqual(['sms_guess_transition']);
    expect(await client(owner)).toMatchObject({ onboardingState: 'S3_SERVICE_AREA', businessName: 'First Name Plumbing', serviceArea: 'Springfield' });
    expect(await inbox(area)).toMatchObject({ status: 'processed', attempts: 1, reply: texts.poolEmpty });
    expect(a.known.get(owner)).toBeUndefined();
  });

  it('a stale "ask again" guess writes nothing either', async () => {
    const [a, b] = [instance(), instance()];
    const owner = phone();
    await a.receive(smsOf(owner, 'Hi'));
    await b.receive(smsOf(owner, 'Second Name Plumbing'));
    const unclear = smsOf(owner, '???');
    const outcome = await a.receive(unclear, noName);
    expect(a.statements).toEqual(['sms_guess_no_change']);
    // Processed from S2: an area that cannot be read is asked for again.
    expect(outcome).toMatchObject({ kind: 'processed', result: { reply: texts.askAreaAgain } });
    expect(await inbox(unclear)).toMatchObject({ status: 'processed', attempts: 1, reply: texts.askAreaAgain });
  });

  it('a caller who got the fail-safe text is not guessed into an owner', async () => {
    const app = instance();
    const caller = phone();
    await db.prisma.outboundMessage.create({ data: { toPhone: caller, fromPhone: systemNumber, body: texts.failsafe, purpose: 'failsafe' } });
    const sms = smsOf(caller, 'Hello? You called me');
    expect(await app.receive(sms)).toMatchObject({ kind: 'processed', result: { route: 'system_caller', reply: texts.systemCallerAck } });
    expect(app.statements).toEqual(['sms_guess_new_owner', 'sms_receive_no_change']);
    expect(await client(caller)).toBeNull();
    expect(app.known.get(caller)).toBeUndefined();
  });

  it("clears the sender's suppression on a guess, and when the extractor fails before the guess is written", async () => {
    const app = instance();
    const owner = phone();
    const suppressions = () => db.prisma.smsSuppression.count({ where: { fromPhone: systemNumber, toPhone: owner } });
    const suppress = () => db.prisma.smsSuppression.create({ data: { fromPhone: systemNumber, toPhone: owner, errorCode: 30003, reason: 'unreachable' } });
    await suppress();
    await app.receive(smsOf(owner, 'Hi'));
    expect(await suppressions()).toBe(0);

    await suppress();
    const sms = smsOf(owner, 'Ace Plumbing');
    await expect(app.receive(sms, failing)).rejects.toThrow('extractor down');
    expect(await suppressions()).toBe(0);
    expect(await inbox(sms)).toBeNull();
    expect(await client(owner)).toMatchObject({ onboardingState: 'S1_WELCOME' });
  });

  it('the system number assigned to a client: the guess writes nothing and the route read refuses it', async () => {
    const app = instance();
    const other = await freshDatabase(backend, 'guess-broken');
    try {
      await addNumbers(other.prisma, [systemNumber], 'SYSTEM');
      const holder = await other.prisma.client.create({ data: { phone: phone() } });
      await other.prisma.poolNumber.update({ where: { phoneNumber: systemNumber }, data: { clientId: holder.id } });
      const owner = phone();
      const sms = smsOf(owner, 'Hi');
      const error = await receiveInbound(other, sms, paramsOf(sms), { ...deps, knownOwners: app.known }, new ReplyChannel(), newInboxRow(null)).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'INVARIANT_VIOLATION' });
      expect(await other.prisma.client.count({ where: { phone: owner } })).toBe(0);
      expect(await other.prisma.inboundEvent.count({ where: { messageSid: sms.messageSid } })).toBe(0);
    } finally {
      await other.close();
    }
  });

  it.runIf(backend === 'postgres')(
    'the TwiML answer is not claimed while the write waits for a connection: the webhook may give up, and the reply goes through the outbox',
    async () => {
      const url = (db as Database & { url?: string }).url!;
      const pool = new pg.Pool({ connectionString: url, max: 1 });
      const held = await pool.connect(); // every connection busy (a database that hangs starves the pool so)
      let released = false;
      try {
        const owner = phone();
        const sms = smsOf(owner, 'Hi');
        const channel = new ReplyChannel();
        const receiving = receiveInbound({ prisma: db.prisma, sql: poolRunner(pool) }, sms, paramsOf(sms), deps, channel, newInboxRow(null));
        await vi.waitFor(() => expect(pool.waitingCount).toBe(1));
        // The webhook's budget ends: it may answer with the holding text (the claim was not taken).
        expect(channel.close()).toBe(true);
        released = true;
        held.release();
        expect(await receiving).toMatchObject({ kind: 'processed', viaTwiml: false, result: { reply: texts.welcome } });
        expect(await inbox(sms)).toMatchObject({ status: 'processed', replyVia: 'outbox' });
        expect(await db.prisma.outboundMessage.findMany({ where: { toPhone: owner } })).toMatchObject([{ body: texts.welcome, purpose: 'onboarding' }]);
      } finally {
        if (!released) held.release();
        await pool.end();
      }
    },
  );
});
