// Acceptance rule: no duplicate customer replies. Twilio retries (the same MessageSid or
// CallSid, sequential or while the first is still being processed), concurrent workers and
// late duplicates never make a customer hear from us twice.
import { requirePostgres } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { texts } from '../../src/domain/messages.js';
import { checkoutCompleted } from './support/events.js';
import { controlledExtractor } from './support/extractors.js';
import { onboardClient, type OnboardedClient } from './support/flows.js';
import { callSid, messageSid, phone } from './support/phones.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const postgresUp = await requirePostgres();

describe.skipIf(!postgresUp)('no duplicate customer replies (PostgreSQL, idempotency records in the database)', () => {
  let app: TestApp;
  let client: OnboardedClient;
  const provider = controlledExtractor();

  beforeAll(async () => {
    app = await startTestApp({ spec: { backend: 'postgres', redis: false }, label: 'nodup', overrides: { extractor: provider.extractor } });
    await app.addPoolNumbers(1);
    client = await onboardClient(app, { businessName: 'Steady Plumbing' });
  });
  afterAll(async () => app?.close());

  const messagesOf = (customer: string) => app.ctx.db.prisma.message.findMany({ where: { conversation: { customer: { phone: customer } } } });

  it('Twilio retries the same MessageSid: the same TwiML, one inbound message, nothing sent through the API', async () => {
    const customer = phone();
    const sid = messageSid();
    const replies = [];
    for (let i = 0; i < 3; i++) replies.push(await app.sms({ from: customer, to: client.number, body: 'Need a plumber tomorrow', messageSid: sid }));
    expect(new Set(replies.map((r) => r.body)).size).toBe(1);
    expect(replies[0]!.messages).toEqual([texts.customerAck('Steady Plumbing')]);
    expect((await messagesOf(customer)).filter((m) => m.direction === 'INBOUND')).toHaveLength(1);
    expect(await app.drainOutbox()).toMatchObject({ sent: 0 });
    expect(app.smsTo(customer)).toEqual([]);
  });

  it('a retry that arrives while the first delivery is still processing waits for it and gets the same TwiML', async () => {
    provider.reset();
    provider.slow(700, 'customer_message');
    const customer = phone();
    const sid = messageSid();
    const first = app.sms({ from: customer, to: client.number, body: 'Leaking pipe under the sink', messageSid: sid });
    await new Promise((r) => setTimeout(r, 150));
    const retry = app.sms({ from: customer, to: client.number, body: 'Leaking pipe under the sink', messageSid: sid });
    const [a, b] = await Promise.all([first, retry]);
    const extractions = provider.calls.filter((g) => g === 'customer_message').length;
    provider.reset();
    expect(a.messages).toEqual([texts.customerUrgentAck('Steady Plumbing')]);
    expect(b.body).toBe(a.body);
    expect(extractions).toBe(1);
    // One urgent alert to the owner, not two.
    expect((await app.drainOutbox()).sent).toBe(1);
    expect(app.smsTo(client.owner).filter((m) => m.body.includes('Leaking pipe under the sink'))).toHaveLength(1);
  });

  it('Twilio retries the same CallSid (one after the other, and at once): the caller is texted once', async () => {
    const caller = phone();
    const sid = callSid();
    await app.callStatus({ callSid: sid, from: caller, to: client.number, status: 'no-answer' });
    await Promise.all([0, 1, 2].map(() => app.callStatus({ callSid: sid, from: caller, to: client.number, status: 'no-answer' })));
    expect((await app.drainOutbox()).sent).toBe(1);
    expect(app.smsTo(caller)).toHaveLength(1);
  });

  it('two outbox workers running at once (two instances, or a slow round overlapping the next) send each SMS once', async () => {
    const callers = Array.from({ length: 6 }, () => phone());
    for (const caller of callers) await app.callStatus({ callSid: callSid(), from: caller, to: client.number, status: 'busy' });
    const rounds = await Promise.all([app.outboxWorker().runOnce(), app.outboxWorker().runOnce(), app.outboxWorker().runOnce()]);
    expect(rounds.reduce((n, r) => n + r.sent, 0)).toBe(6);
    for (const caller of callers) expect(app.smsTo(caller)).toHaveLength(1);
  });

  it('a duplicate arriving after the dedup record expired is answered without processing it again', async () => {
    const customer = phone();
    const sid = messageSid();
    await app.sms({ from: customer, to: client.number, body: 'Do you do drains?', messageSid: sid });
    // 24 h later the processed-webhook record is gone (retention); the inbox row is not.
    await app.ctx.db.prisma.idempotencyRecord.deleteMany({ where: { key: { contains: sid } } });
    const late = await app.sms({ from: customer, to: client.number, body: 'Do you do drains?', messageSid: sid });
    expect(late.status).toBe(200);
    // The first answer again, from the inbox row (not a holding text: issue 11).
    expect(late.messages).toEqual([texts.customerAck('Steady Plumbing')]);
    expect((await messagesOf(customer)).filter((m) => m.direction === 'INBOUND')).toHaveLength(1);
    expect(await app.drainOutbox()).toMatchObject({ sent: 0 });
  });

  it('a Stripe event delivered again does not text the owner again', async () => {
    const owner = phone();
    await app.addPoolNumbers(1);
    let pay = '';
    for (const body of ['Hi', 'Once Only Roofing', 'We serve Ogdenville', 'YES'])
      pay = (await app.sms({ from: owner, to: app.systemNumber, body })).messages[0]!;
    const clientId = decodeURIComponent(/client_reference_id=([^\s&]+)/.exec(pay)![1]!);
    const event = checkoutCompleted(clientId);
    for (let i = 0; i < 3; i++) expect((await app.stripeEvent(event)).status).toBe(200);
    // Stripe also sends the same session in a new event when a payment is retried by hand.
    expect((await app.stripeEvent(checkoutCompleted(clientId))).status).toBe(200);
    expect((await app.drainOutbox()).sent).toBe(1);
    expect(app.smsTo(owner)).toHaveLength(1);
  });
});
