// Acceptance rule: no call black holes. Every missed call yields exactly one SMS to the
// caller, whatever number was called and whatever state its client is in.
import { eventually, requirePostgres } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { texts } from '../../src/domain/messages.js';
import { onboardClient, type OnboardedClient } from './support/flows.js';
import { callSid, phone } from './support/phones.js';
import { levels } from './support/log-capture.js';
import { adminPhone, startTestApp, type TestApp } from './support/test-app.js';

const postgresUp = await requirePostgres();

describe('no call black holes (PGlite)', () => {
  let app: TestApp;
  let live: OnboardedClient;

  beforeAll(async () => {
    app = await startTestApp({ label: 'blackholes' });
    await app.addPoolNumbers(3);
    live = await onboardClient(app, { businessName: 'Ace Plumbing' });
  }, 120_000);
  afterAll(async () => app?.close());

  /** A missed call to `to`; returns the SMS the caller received (after the outbox ran). */
  async function missedCall(to: string, status = 'no-answer') {
    const caller = phone();
    const reply = await app.callStatus({ callSid: callSid(), from: caller, to, status });
    expect(reply.status).toBe(200);
    await app.drainOutbox();
    return app.smsTo(caller);
  }

  it("a client's number: texted back in the business name, from that number", async () => {
    const sms = await missedCall(live.number);
    expect(sms.map((m) => [m.from, m.body])).toEqual([[live.number, texts.missedCall('Ace Plumbing')]]);
  });

  it('the system number: the fail-safe SMS', async () => {
    const sms = await missedCall(app.systemNumber, 'busy');
    expect(sms.map((m) => [m.from, m.body])).toEqual([[app.systemNumber, texts.failsafe]]);
  });

  it('a number of ours that belongs to no client (in the pool, not assigned): the fail-safe SMS', async () => {
    const free = await app.ctx.db.prisma.poolNumber.findFirstOrThrow({ where: { status: 'AVAILABLE' } });
    const sms = await missedCall(free.phoneNumber, 'failed');
    expect(sms.map((m) => [m.from, m.body])).toEqual([[free.phoneNumber, texts.failsafe]]);
  });

  it('a number we do not know at all: the fail-safe SMS', async () => {
    const sms = await missedCall('+18885550199');
    expect(sms.map((m) => m.body)).toEqual([texts.failsafe]);
  });

  it('a client whose owner paused outbound texts: a polite deflection, not silence', async () => {
    const paused = await onboardClient(app, { businessName: 'Quiet Electric' });
    const ack = await app.sms({ from: paused.owner, to: app.systemNumber, body: 'PAUSE' });
    expect(ack.messages).toEqual([texts.ownerPaused]);
    const sms = await missedCall(paused.number);
    // Not "Thanks for your message" after a call (issue 11), and what PAUSE promised.
    expect(sms.map((m) => [m.from, m.body])).toEqual([[paused.number, texts.missedCallPaused('Quiet Electric')]]);
    // A customer's text is deflected politely too (and the owner is not texted).
    const text = await app.sms({ from: phone(), to: paused.number, body: 'URGENT: no power in the house' });
    expect(text.messages).toEqual([texts.deflection('Quiet Electric')]);
    expect(await app.drainOutbox()).toMatchObject({ sent: 0 });
    await app.sms({ from: paused.owner, to: app.systemNumber, body: 'RESUME' });
    expect((await missedCall(paused.number)).map((m) => m.body)).toEqual([texts.missedCall('Quiet Electric')]);
  });

  it('a client still onboarding (number allocated, not live yet): texted back in the business name', async () => {
    const owner = phone();
    let allocated = '';
    for (const body of ['Hi', 'Halfway Heating', 'We serve Springfield']) allocated = (await app.sms({ from: owner, to: app.systemNumber, body })).messages[0]!;
    const number = /assistant number is (\+\d+)/.exec(allocated)![1]!;
    expect((await missedCall(number)).map((m) => m.body)).toEqual([texts.missedCall('Halfway Heating')]);
  });

  it('a text to a number we do not use is answered too (the fail-safe), never an empty TwiML', async () => {
    const reply = await app.sms({ from: phone(), to: '+18885550177', body: 'hello?' });
    expect(reply.messages).toEqual([texts.failsafe]);
  });
});

describe.skipIf(!postgresUp)('no call black holes while the database is down (PostgreSQL)', () => {
  let app: TestApp;
  let live: OnboardedClient;

  beforeAll(async () => {
    app = await startTestApp({ spec: { backend: 'postgres', redis: false }, storageOptions: { databaseProxy: true }, label: 'blackholesdb' });
    await app.addPoolNumbers(1);
    live = await onboardClient(app, { businessName: 'Offline Plumbing' });
  });
  afterAll(async () => app?.close());

  it("a missed call to a client's number during a database outage: the business's text (as last read) from that number, an error log and a HIGH alert", async () => {
    const caller = phone();
    const adminBefore = app.smsTo(adminPhone).length;
    app.storage.proxy!.cut();
    try {
      const reply = await app.callStatus({ callSid: callSid(), from: caller, to: live.number, status: 'no-answer' });
      expect(reply.status).toBe(200);
    } finally {
      app.storage.proxy!.restore();
    }
    expect(app.smsTo(caller).map((m) => [m.from, m.body])).toEqual([[live.number, texts.missedCall('Offline Plumbing')]]);
    expect(app.logs.find("missed call could not be processed; business's text sent from the directory", levels.error)).toHaveLength(1);
    await eventually(() => app.smsTo(adminPhone).length > adminBefore, 5000);
    expect(app.smsTo(adminPhone).at(-1)!.body).toMatch(/missed call could not be processed/i);
  });

  it('a missed call to a number the app never read during a database outage: the generic fail-safe SMS', async () => {
    const caller = phone();
    const unknown = phone();
    app.storage.proxy!.cut();
    try {
      expect((await app.callStatus({ callSid: callSid(), from: caller, to: unknown, status: 'busy' })).status).toBe(200);
    } finally {
      app.storage.proxy!.restore();
    }
    expect(app.smsTo(caller).map((m) => [m.from, m.body])).toEqual([[unknown, texts.failsafe]]);
    expect(app.logs.find('missed call could not be processed; fail-safe SMS sent instead', levels.error)).toHaveLength(1);
  });
});
