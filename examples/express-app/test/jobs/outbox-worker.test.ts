// The outbox worker with the real `twilio` SDK against a local server that speaks the
// Messages API: one send per message, retries only when Twilio certainly did not take it,
// dead letters visible, unknown outcomes reconciled through the Messages API list before
// any retry (the customer gets exactly one SMS), and two workers never sending a row twice.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BreakerRegistry, createSafeCall, maskPhoneNumber, silentLogger, type SafeCall } from '@hardening/core';
import { eventually, requirePostgres, startFakeTwilio, type FakeTwilio } from '@hardening/test-support';
import type { AlertInput } from '../../src/alerts/alert-input.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { missedCallText } from '../../src/domain/conversation.js';
import { texts } from '../../src/domain/messages.js';
import { enqueueSms } from '../../src/domain/outbox.js';
import { OutboxWorker, type OutboxWorkerOptions } from '../../src/jobs/outbox-worker.js';
import { twilioSender } from '../../src/providers/sms-sender.js';
import { createTwilioClient } from '../../src/providers/twilio-client.js';
import { freshDatabase, type Backend } from '../support/databases.js';
import { captureLogger } from './support/logs.js';

const pgUp = await requirePostgres();
const backends: Backend[] = pgUp ? ['pglite', 'postgres'] : ['pglite'];
const business = '+15559990101';
let customerSeq = 0;
const nextCustomer = () => `+1555333${String(1000 + ++customerSeq)}`;

const posts = (fake: FakeTwilio) => fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/Messages.json'));
const lists = (fake: FakeTwilio) => fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/Messages.json'));

describe.each(backends)('outbox worker with the real Twilio SDK on %s', (backend) => {
  let db: Database;
  let fake: FakeTwilio;
  beforeAll(async () => {
    [db, fake] = await Promise.all([freshDatabase(backend, 'outbox'), startFakeTwilio()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([db?.close(), fake?.close()]);
  });
  beforeEach(() => {
    fake.clearFaults();
    fake.clearRequests();
  });

  function worker(extra: Partial<OutboxWorkerOptions> & { twilioTimeoutMs?: number } = {}) {
    const logger = captureLogger();
    const alerts: AlertInput[] = [];
    // Short waits between attempts; the SDK call's timeout is safeCall's (per operation).
    const registry = new BreakerRegistry();
    const safeCall: SafeCall = createSafeCall({ registry, logger: silentLogger, defaults: { backoff: { initialDelayMs: 20 } } });
    safeCall.configure('twilio_sms', { timeoutMs: extra.twilioTimeoutMs ?? 5000 });
    const { twilioTimeoutMs: _, ...options } = extra;
    const outbox = new OutboxWorker({
      db: db.prisma,
      sender: twilioSender(createTwilioClient(fake.accountSid, fake.authToken, fake.url)),
      safeCall,
      logger,
      alert: (alert) => alerts.push(alert),
      statusCallbackUrl: (id) => `https://app.example.test/api/twilio/message-status?outboxId=${id}`,
      retryDelayMs: () => 0,
      ...options,
    });
    return { outbox, logger, alerts, registry };
  }

  const row = (id: string) => db.prisma.outboundMessage.findUniqueOrThrow({ where: { id } });

  it('sends a message once, with its status callback, and records the SID', async () => {
    const { outbox } = worker();
    const to = nextCustomer();
    const id = await enqueueSms(db.prisma, { to, from: business, body: 'Sorry we missed your call. How can we help?', purpose: 'missed_call' });
    expect(await outbox.runOnce()).toMatchObject({ sent: 1 });
    expect(await outbox.runOnce()).toMatchObject({ sent: 0 });
    expect(fake.messages.filter((m) => m.to === to)).toHaveLength(1);
    const message = fake.messages.find((m) => m.to === to)!;
    expect(message).toMatchObject({
      from: business,
      body: 'Sorry we missed your call. How can we help?',
      statusCallback: `https://app.example.test/api/twilio/message-status?outboxId=${id}`,
    });
    expect(await row(id)).toMatchObject({ status: 'sent', twilioSid: message.sid, attempts: 1, lastError: null });
    expect(posts(fake)).toHaveLength(1);
  });

  it('a 503 and a 429 (Twilio did not take the message) are retried at once: one SMS', async () => {
    const { outbox } = worker();
    const to = nextCustomer();
    const id = await enqueueSms(db.prisma, { to, from: business, body: 'reply', purpose: 'reply' });
    fake.fail({ status: 503 });
    fake.fail({ status: 429 });
    expect(await outbox.runOnce()).toMatchObject({ sent: 1 });
    expect(posts(fake).map((r) => r.status)).toEqual([503, 429, 201]);
    expect(fake.messages.filter((m) => m.to === to)).toHaveLength(1);
    expect((await row(id)).status).toBe('sent');
  });

  it('a 503 on every attempt leaves the message failed for a later round, then dead-letters it after its rounds', async () => {
    const { outbox, alerts, logger, registry } = worker({ maxRounds: () => 2, refusedDelayMs: 0 });
    const to = nextCustomer();
    const id = await enqueueSms(db.prisma, { to, from: business, body: 'reply', purpose: 'reply' });
    fake.fail({ status: 503, times: 3 });
    expect(await outbox.runOnce()).toMatchObject({ retrying: 1 });
    expect((await row(id)).status).toBe('failed');
    // Those 3 failures opened the breaker: the next round is refused, and is no round.
    expect(await outbox.runOnce()).toMatchObject({ refused: 1, deadLettered: 0 });
    expect(await row(id)).toMatchObject({ status: 'failed', attempts: 1 });
    registry.get('twilio_sms').close(); // its cooldown over, and the probe let through
    fake.fail({ status: 503, times: 3 });
    expect(await outbox.runOnce()).toMatchObject({ deadLettered: 1 });
    expect(fake.messages.filter((m) => m.to === to)).toHaveLength(0);
    expect(alerts).toEqual([expect.objectContaining({ type: 'MESSAGE_LOST', resourceId: id })]);
    expect(logger.lines.some((l) => l.msg === 'MESSAGE LOST: SMS dead-lettered')).toBe(true);
  });

  it('a 400 is dead-lettered at once with a MESSAGE LOST log line and an alert, never naming the number', async () => {
    const { outbox, alerts, logger } = worker();
    const to = nextCustomer();
    const id = await enqueueSms(db.prisma, { to, from: business, body: 'Your plumber is on the way', purpose: 'reply' });
    fake.fail({
      status: 400,
      body: { code: 21211, message: `The 'To' number ${to} is not a valid phone number.`, more_info: 'https://www.twilio.com/docs/errors/21211', status: 400 },
    });
    expect(await outbox.runOnce()).toMatchObject({ deadLettered: 1 });
    expect(posts(fake)).toHaveLength(1); // not retried
    const dead = await row(id);
    expect(dead.status).toBe('dead_letter');
    expect(dead.lastError).toMatch(/not a valid phone number/);
    expect(dead.lastError).not.toContain(to);
    const line = logger.lines.find((l) => l.msg === 'MESSAGE LOST: SMS dead-lettered')!;
    expect(line.level).toBe('error');
    expect(line.fields).toMatchObject({ outboxId: id, purpose: 'reply' });
    expect(logger.text()).not.toContain(to);
    expect(line.fields.to).toBe(maskPhoneNumber(to));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ type: 'MESSAGE_LOST', severity: 'MEDIUM', resourceId: id });
    expect(JSON.stringify(alerts[0])).not.toContain(to);
  });

  it('a timeout after Twilio accepted the message: marked unknown, found through the Messages API list, never sent twice', async () => {
    const { outbox } = worker({ twilioTimeoutMs: 300 });
    const to = nextCustomer();
    const id = await enqueueSms(db.prisma, { to, from: business, body: 'We got your message and will call you back today.', purpose: 'reply' });
    // Twilio answers (and creates the message) only after the SDK call timed out.
    fake.fail({ delayMs: 1500 });
    expect(await outbox.runOnce()).toMatchObject({ unknown: 1, sent: 0 });
    expect((await row(id)).status).toBe('unknown');
    await eventually(() => fake.messages.some((m) => m.to === to)); // Twilio did take it
    expect(await outbox.runOnce()).toMatchObject({ reconciled: 1, sent: 0 });
    expect(await outbox.runOnce()).toMatchObject({ reconciled: 0, sent: 0 });

    const delivered = fake.messages.filter((m) => m.to === to);
    expect(delivered).toHaveLength(1); // the customer got exactly one SMS
    expect(posts(fake)).toHaveLength(1);
    expect(lists(fake).map((r) => r.query)).toEqual([expect.objectContaining({ To: to, From: business })]);
    expect(await row(id)).toMatchObject({ status: 'sent', twilioSid: delivered[0]!.sid });
  });

  it('an outcome that stays unknowable (the lookup keeps failing) ends in a dead letter and an alert, never a second send', async () => {
    const { outbox, alerts, logger, registry } = worker({ twilioTimeoutMs: 300, maxRounds: () => 1 });
    const to = nextCustomer();
    const id = await enqueueSms(db.prisma, { to, from: business, body: 'Your quote is on its way.', purpose: 'reply' });
    fake.fail({ delayMs: 1500 });
    expect(await outbox.runOnce()).toMatchObject({ unknown: 1 });
    await eventually(() => fake.messages.some((m) => m.to === to));
    const lookupFails = (r: { method: string; path: string }) => r.method === 'GET' && r.path.endsWith('/Messages.json');
    fake.fail({ match: lookupFails, status: 500, times: 100 });
    let deadLettered = 0;
    // Every round a real lookup that fails (a refusal by the lookup's open breaker is no round: see the next test).
    for (let round = 0; round < 10 && deadLettered === 0; round++) {
      registry.get('twilio_lookup').close();
      deadLettered = (await outbox.runOnce()).deadLettered;
    }
    expect(deadLettered).toBe(1);
    expect(await row(id)).toMatchObject({ status: 'dead_letter', lastError: expect.stringMatching(/^outcome unknown after \d+ rounds/) });
    expect(posts(fake)).toHaveLength(1); // never sent a second time
    expect(alerts).toEqual([expect.objectContaining({ type: 'MESSAGE_LOST', resourceId: id })]);
    expect(logger.lines.some((l) => l.msg?.startsWith('MESSAGE LOST'))).toBe(true);
  });

  it('a lookup refused by its open breaker is no round: the row keeps its rounds, waits for the probe, and is found once looked up (issue 11)', async () => {
    // The combined chaos run: three refused lookups pushed unknown rows 2 min out, past the drain.
    const { outbox, registry } = worker({ twilioTimeoutMs: 300, maxRounds: () => 1, refusedDelayMs: 0 });
    const to = nextCustomer();
    const id = await enqueueSms(db.prisma, { to, from: business, body: 'Your plumber is on the way.', purpose: 'reply' });
    fake.fail({ delayMs: 1500 });
    expect(await outbox.runOnce()).toMatchObject({ unknown: 1 });
    await eventually(() => fake.messages.some((m) => m.to === to));
    const attemptsBefore = (await row(id)).attempts;
    registry.get('twilio_lookup').open(Date.now() + 60_000);
    // Far more refusals than the 1 + 5 rounds an unknown outcome gets: none counts, none dead-letters it.
    for (let i = 0; i < 10; i++) expect(await outbox.runOnce()).toMatchObject({ refused: 1, deadLettered: 0, unknown: 0 });
    expect(await row(id)).toMatchObject({ status: 'unknown', attempts: attemptsBefore, lastError: 'twilio_lookup breaker open: not looked up' });
    expect(lists(fake)).toHaveLength(0); // Twilio was not asked
    registry.get('twilio_lookup').close();
    expect(await outbox.runOnce()).toMatchObject({ reconciled: 1, sent: 0 });
    expect(fake.messages.filter((m) => m.to === to)).toHaveLength(1);
    expect(posts(fake)).toHaveLength(1);
  });

  it('a timeout where Twilio never got the message: the lookup finds nothing, so it is sent once', async () => {
    const { outbox } = worker({ twilioTimeoutMs: 300 });
    const to = nextCustomer();
    const id = await enqueueSms(db.prisma, { to, from: business, body: 'Thanks, see you at 3pm.', purpose: 'reply' });
    fake.fail({ hang: true });
    expect(await outbox.runOnce()).toMatchObject({ unknown: 1 });
    expect(await outbox.runOnce()).toMatchObject({ sent: 1, reconciled: 0 });
    expect(fake.messages.filter((m) => m.to === to)).toHaveLength(1);
    expect(lists(fake)).toHaveLength(1);
    expect((await row(id)).status).toBe('sent');
  });

  it("a generic fail-safe of unknown outcome from a live business's number, found unsent: sent in the business's name (chaos run, combined)", async () => {
    // What a fail-safe leaves when the instance's directory never knew the business (it started
    // during a database outage) and Twilio answered 500: the generic text, outcome unknown.
    const number = `+1555888${String(1000 + ++customerSeq)}`;
    const client = await db.prisma.client.create({
      data: { phone: nextCustomer(), businessName: 'Late Light Electric', onboardingState: 'COMPLETE', paymentActive: true },
    });
    await db.prisma.poolNumber.create({ data: { phoneNumber: number, status: 'ASSIGNED', role: 'CLIENT', clientId: client.id, assignedAt: new Date() } });
    const caller = nextCustomer();
    const unknownRow = (from: string, to: string) =>
      db.prisma.outboundMessage.create({
        data: {
          toPhone: to,
          fromPhone: from,
          body: texts.failsafe,
          purpose: 'failsafe',
          status: 'unknown',
          attempts: 1,
          lastError: 'sent while the database was down; outcome unknown',
        },
      });
    const { id } = await unknownRow(number, caller);
    // A call to a number of no client keeps the generic text.
    const stranger = nextCustomer();
    const { id: generic } = await unknownRow(business, stranger);
    const { outbox } = worker();
    expect(await outbox.runOnce()).toMatchObject({ sent: 2 });
    expect(fake.messages.filter((m) => m.to === caller).map((m) => m.body)).toEqual([missedCallText(client)]);
    expect(await row(id)).toMatchObject({ status: 'sent', purpose: 'missed_call', body: missedCallText(client) });
    expect(fake.messages.filter((m) => m.to === stranger).map((m) => m.body)).toEqual([texts.failsafe]);
    expect(await row(generic)).toMatchObject({ status: 'sent', purpose: 'failsafe' });
  });

  it('Twilio not configured: logged as not sent with the number masked, nothing sent', async () => {
    const { outbox, logger } = worker({ sender: undefined });
    const to = nextCustomer();
    const id = await enqueueSms(db.prisma, { to, from: business, body: 'hello', purpose: 'reply' });
    expect(await outbox.runOnce()).toMatchObject({ notSent: 1 });
    expect(await row(id)).toMatchObject({ status: 'not_sent', lastError: 'Twilio not configured' });
    const line = logger.lines.find((l) => l.msg === 'SMS not sent: Twilio not configured')!;
    expect(line).toMatchObject({ level: 'warn', fields: { outboxId: id, purpose: 'reply' } });
    expect(line.fields.to).toBe(maskPhoneNumber(to));
    expect(line.fields.to).not.toBe(to);
    expect(logger.text()).not.toContain(to);
    expect(fake.requests).toHaveLength(0);
  });
});

describe.skipIf(!pgUp)('two workers racing the same outbox (PostgreSQL)', () => {
  let first: Database & { url?: string };
  let second: Database;
  let fake: FakeTwilio;
  beforeAll(async () => {
    [first, fake] = await Promise.all([freshDatabase('postgres', 'outbox_race'), startFakeTwilio()]);
    // A second connection pool, as a second app instance would have.
    second = await openDatabase({
      databaseUrl: first.url!,
      logger: silentLogger,
      safeCall: createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger }),
      migrate: false,
    });
  });
  afterAll(async () => {
    await second?.close();
    await Promise.all([first?.close(), fake?.close()]);
  });

  it('60 messages, two workers claiming in small batches at the same time: each sent exactly once', async () => {
    const make = (db: Database) =>
      new OutboxWorker({
        db: db.prisma,
        sender: twilioSender(createTwilioClient(fake.accountSid, fake.authToken, fake.url)),
        safeCall: createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger }),
        logger: silentLogger,
        alert: () => {},
        batchSize: 7,
      });
    const a = make(first);
    const b = make(second);
    const recipients = Array.from({ length: 60 }, (_, i) => `+1555444${String(1000 + i)}`);
    for (const to of recipients) await enqueueSms(first.prisma, { to, from: business, body: `job update for ${to.slice(-4)}`, purpose: 'reply' });

    let sentA = 0;
    let sentB = 0;
    for (let round = 0; round < 20; round++) {
      const [ra, rb] = await Promise.all([a.runOnce(), b.runOnce()]);
      sentA += ra.sent;
      sentB += rb.sent;
      if (ra.sent + rb.sent === 0) break;
    }
    expect(sentA + sentB).toBe(60);
    expect(sentA).toBeGreaterThan(0);
    expect(sentB).toBeGreaterThan(0);
    expect(fake.messages).toHaveLength(60);
    expect(new Set(fake.messages.map((m) => m.to)).size).toBe(60);
    expect(await first.prisma.outboundMessage.count({ where: { status: 'sent', twilioSid: { not: null } } })).toBe(60);
  });
});

describe('owner_urgent patience on an injected clock (issue 11)', () => {
  let db: Database;
  let fake: FakeTwilio;
  beforeAll(async () => {
    [db, fake] = await Promise.all([freshDatabase(pgUp ? 'postgres' : 'pglite', 'outbox-urgent'), startFakeTwilio()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([db?.close(), fake?.close()]);
  });
  const urgentRow = (id: string) => db.prisma.outboundMessage.findUniqueOrThrow({ where: { id } });

  it('an urgent owner text outlasts a 60 s provider outage that opened the breaker: refusals are not rounds, the backoff spans minutes (issue 11)', async () => {
    // Ahead of the database's clock, so rows just written are due.
    let t = Date.now() + 5000;
    const clock = () => t;
    const registry = new BreakerRegistry({ defaults: { clock: { now: clock } } });
    const safeCall: SafeCall = createSafeCall({ registry, logger: silentLogger, defaults: { backoff: { initialDelayMs: 5 } } });
    safeCall.configure('twilio_sms', { timeoutMs: 5000, breaker: { failureThreshold: 3, cooldownMs: 30_000 } });
    const alerts: AlertInput[] = [];
    // The production defaults for rounds and backoff: only the clock is the test's.
    const outbox = new OutboxWorker({
      db: db.prisma,
      sender: twilioSender(createTwilioClient(fake.accountSid, fake.authToken, fake.url)),
      safeCall,
      logger: silentLogger,
      alert: (a) => alerts.push(a),
      now: clock,
    });
    const owner = nextCustomer();
    const outageEnds = t + 60_000;
    fake.fail({ status: 503, times: Infinity, match: (r) => r.method === 'POST' && r.path.endsWith('/Messages.json') && t < outageEnds });
    // Another message trips the breaker first: it is open when the urgent text comes up.
    await enqueueSms(db.prisma, { to: nextCustomer(), from: business, body: 'reply', purpose: 'reply' });
    const tripping = await outbox.runOnce();
    expect(tripping).toMatchObject({ retrying: 1 });
    expect(registry.get('twilio_sms').state).toBe('open');
    const id = await enqueueSms(db.prisma, { to: owner, from: business, body: 'URGENT job: burst pipe', purpose: 'owner_urgent' });
    const refusedFirst = await outbox.runOnce();
    expect(refusedFirst).toMatchObject({ refused: 1, deadLettered: 0 });
    expect(await urgentRow(id)).toMatchObject({ status: 'pending', attempts: 0 });
    // The scheduler's loop: a round every 1.5 s of (simulated) time for 5 minutes.
    const totals = { refused: 0, retrying: 0, deadLettered: 0, sent: 0 };
    while (t < outageEnds + 5 * 60_000 && (await urgentRow(id)).status !== 'sent') {
      t += 1500;
      const round = await outbox.runOnce();
      for (const key of Object.keys(totals) as Array<keyof typeof totals>) totals[key] += round[key];
    }
    expect(totals.deadLettered).toBe(0);
    expect(totals.refused).toBeGreaterThan(0);
    expect(await urgentRow(id)).toMatchObject({ status: 'sent' });
    expect(fake.messages.filter((m) => m.to === owner)).toHaveLength(1);
    expect(alerts.filter((a) => a.type === 'MESSAGE_LOST')).toEqual([]);
    // Delivered within a couple of minutes of the outage's end, not at the end of the backoff.
    expect((await urgentRow(id)).sentAt!.getTime() - outageEnds).toBeLessThan(2 * 60_000);
  });
});
