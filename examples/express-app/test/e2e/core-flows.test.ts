// The core flows over real HTTP, on every backend the app supports: PGlite and PostgreSQL,
// with and without Redis (idempotency store, BullMQ queue, shared breakers).
import { requirePostgres, requireRedis } from '@hardening/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { texts } from '../../src/domain/messages.js';
import { fullMatrix, redisValuesAsText, specName, type BackendSpec } from './support/backends.js';
import { rowsMentioning } from './support/db-inspect.js';
import { checkoutCompleted } from './support/events.js';
import { onboardClient, type OnboardedClient } from './support/flows.js';
import { counterValue } from './support/metrics.js';
import { callSid, messageSid, nationalDigits, phone } from './support/phones.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const postgresUp = await requirePostgres();
const redisUp = await requireRedis();
const available = (spec: BackendSpec) => (spec.backend !== 'postgres' || postgresUp) && (!spec.redis || redisUp);

describe.each(fullMatrix.map((spec) => ({ spec, name: specName(spec) })))('core flows on $name', ({ spec }) => {
  let app: TestApp;
  /** Every person's number a test used: none may appear in full in any log line. */
  const people: string[] = [];
  const person = () => {
    const p = phone();
    people.push(p);
    return p;
  };

  beforeAll(async () => {
    if (!available(spec)) return;
    app = await startTestApp({ spec, label: `core_${specName(spec)}` });
    await app.addPoolNumbers(4);
  });
  afterAll(async () => app?.close());
  afterEach(() => {
    if (app === undefined) return;
    app.logs.assertNever(people.flatMap((p) => [p, nationalDigits(p)]));
  });

  it.skipIf(!available(spec))('runs on the backend under test', () => {
    expect(app.ctx.db.kind).toBe(spec.backend);
    expect(app.ctx.queue.kind).toBe(spec.redis ? 'bullmq' : 'in-process');
    expect(app.built.redis !== undefined).toBe(spec.redis);
  });

  it.skipIf(!available(spec))('onboarding by SMS: S1 -> COMPLETE through /sms, Stripe checkout and the owner test call', async () => {
    const owner = person();
    const { prisma } = app.ctx.db;
    const state = async () => (await prisma.client.findUniqueOrThrow({ where: { phone: owner } })).onboardingState;
    const say = async (body: string) => {
      const reply = await app.sms({ from: owner, to: app.systemNumber, body });
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toMatch(/text\/xml/);
      return reply.messages;
    };

    expect(await say('Hello')).toEqual([texts.welcome]);
    expect(await state()).toBe('S1_WELCOME');
    expect(await say("It's Ace Plumbing")).toEqual([texts.askServiceArea('Ace Plumbing')]);
    expect(await state()).toBe('S2_BUSINESS_NAME');
    const [allocated] = await say('We serve Springfield and Shelbyville');
    const number = /assistant number is (\+\d+)/.exec(allocated!)![1]!;
    expect(await state()).toBe('S4_NUMBER_ALLOCATED');
    expect(await prisma.poolNumber.findUniqueOrThrow({ where: { phoneNumber: number } })).toMatchObject({ status: 'ASSIGNED', role: 'CLIENT' });
    const [pay] = await say('yes');
    expect(await state()).toBe('S5_CONFIRM_LIVE');
    const clientId = decodeURIComponent(/client_reference_id=([^\s&]+)/.exec(pay!)![1]!);

    // The owner pays: Stripe calls the webhook, and the owner is told by SMS (Messages API).
    const paid = await app.stripeEvent(checkoutCompleted(clientId));
    expect(paid.status).toBe(200);
    expect(await state()).toBe('S9_TEST_CALL');
    expect((await app.drainOutbox()).sent).toBe(1);
    expect(app.smsTo(owner).map((m) => m.body)).toEqual([texts.testCall(number)]);
    expect(app.smsTo(owner)[0]!.from).toBe(app.systemNumber);

    // The owner calls their new number: the voice status callback completes onboarding.
    const call = await app.callStatus({ callSid: callSid(), from: owner, to: number, status: 'completed' });
    expect(call.status).toBe(200);
    expect(await state()).toBe('COMPLETE');
    expect((await app.drainOutbox()).sent).toBe(1);
    expect(app.smsTo(owner).map((m) => m.body)).toEqual([texts.testCall(number), texts.live('Ace Plumbing')]);
    // Sent with a delivery-status callback to the app, through the real SDK.
    expect(app.smsTo(owner)[1]!.statusCallback).toMatch(new RegExp(`^${app.publicBaseUrl}/api/twilio/message-status\\?outboxId=`));

    const client = await prisma.client.findUniqueOrThrow({ where: { phone: owner } });
    expect(client).toMatchObject({ businessName: 'Ace Plumbing', serviceArea: 'Springfield and Shelbyville', paymentActive: true, stuckDetectedAt: null });
    const outbox = await prisma.outboundMessage.findMany({ where: { toPhone: owner } });
    expect(outbox.map((o) => o.status)).toEqual(['sent', 'sent']);
    expect(outbox.every((o) => o.twilioSid?.startsWith('SM'))).toBe(true);
  });

  describe('with a live client', () => {
    let client: OnboardedClient;
    beforeAll(async () => {
      if (!available(spec)) return;
      client = await onboardClient(app, { businessName: 'Bright Sparks Electric' });
      people.push(client.owner);
    });

    it.skipIf(!available(spec))('missed call: no-answer, busy and failed each text the caller back in the business name', async () => {
      const callers = { 'no-answer': person(), busy: person(), failed: person() };
      for (const [status, caller] of Object.entries(callers)) {
        const reply = await app.callStatus({ callSid: callSid(), from: caller, to: client.number, status });
        expect(reply.status).toBe(200);
      }
      // A call that was answered is not a missed call.
      const answered = person();
      await app.callStatus({ callSid: callSid(), from: answered, to: client.number, status: 'completed' });

      expect((await app.drainOutbox()).sent).toBe(3);
      for (const caller of Object.values(callers)) {
        const sms = app.smsTo(caller);
        expect(sms.map((m) => m.body)).toEqual([texts.missedCall('Bright Sparks Electric')]);
        expect(sms[0]!.from).toBe(client.number);
      }
      expect(app.smsTo(answered)).toEqual([]);
      // Each caller is now a customer with a conversation holding the text we sent.
      const customers = await app.ctx.db.prisma.customer.findMany({
        where: { clientId: client.clientId, phone: { in: Object.values(callers) } },
        include: { conversations: { include: { messages: true } } },
      });
      expect(customers).toHaveLength(3);
      for (const customer of customers) expect(customer.conversations[0]!.messages.map((m) => m.body)).toEqual([texts.missedCall('Bright Sparks Electric')]);
    });

    it.skipIf(!available(spec))('a customer text is acknowledged; an urgent one alerts the owner by SMS through the outbox', async () => {
      const customer = person();
      const routine = await app.sms({ from: customer, to: client.number, body: 'Can you quote for a new socket in the kitchen?' });
      expect(routine.messages).toEqual([texts.customerAck('Bright Sparks Electric')]);
      expect(await app.drainOutbox()).toMatchObject({ sent: 0 });

      const urgent = await app.sms({ from: customer, to: client.number, body: 'URGENT sparks coming out of the fuse box' });
      expect(urgent.messages).toEqual([texts.customerUrgentAck('Bright Sparks Electric')]);
      expect((await app.drainOutbox()).sent).toBe(1);
      const alert = app.smsTo(client.owner).at(-1)!;
      expect(alert.from).toBe(client.number);
      expect(alert.body).toBe(texts.ownerUrgent(customer, 'URGENT sparks coming out of the fuse box'));
      // The customer got their answers in TwiML, not a second time through the API.
      expect(app.smsTo(customer)).toEqual([]);
      const conversation = await app.ctx.db.prisma.conversation.findFirstOrThrow({
        where: { clientId: client.clientId, customer: { phone: customer } },
        include: { messages: { orderBy: { createdAt: 'asc' } } },
      });
      expect(conversation.messages.map((m) => m.direction)).toEqual(['INBOUND', 'OUTBOUND', 'INBOUND', 'OUTBOUND']);
    });

    it.skipIf(!available(spec))('a Twilio retry of the same MessageSid gets the same TwiML and creates nothing', async () => {
      const customer = person();
      const sid = messageSid();
      const first = await app.sms({ from: customer, to: client.number, body: 'Is Tuesday OK?', messageSid: sid });
      const count = () => app.ctx.db.prisma.message.count({ where: { conversation: { customer: { phone: customer } } } });
      const before = await count();
      const retry = await app.sms({ from: customer, to: client.number, body: 'Is Tuesday OK?', messageSid: sid });
      expect(retry.status).toBe(200);
      expect(retry.body).toBe(first.body);
      expect(await count()).toBe(before);
      expect(await app.ctx.db.prisma.inboundEvent.count({ where: { messageSid: sid } })).toBe(1);
      expect(await counterValue(app.ctx.metrics.duplicates, { provider: 'twilio_sms' })).toBeGreaterThanOrEqual(1);
    });
  });

  it.skipIf(!available(spec))(
    'a missed call to the system number or an unknown number: fail-safe SMS once per CallSid, no row names the caller, metric counted',
    async () => {
      const before = await counterValue(app.ctx.metrics.failsafeIntakes);
      const toSystem = person();
      const toUnknown = person();
      const sid = callSid();
      expect((await app.callStatus({ callSid: sid, from: toSystem, to: app.systemNumber, status: 'no-answer' })).status).toBe(200);
      // Twilio retries the same callback: answered, not processed again.
      expect((await app.callStatus({ callSid: sid, from: toSystem, to: app.systemNumber, status: 'no-answer' })).status).toBe(200);
      // A second final status for the same call (not a retry): still one SMS for the call.
      expect((await app.callStatus({ callSid: sid, from: toSystem, to: app.systemNumber, status: 'failed' })).status).toBe(200);
      expect((await app.callStatus({ callSid: callSid(), from: toUnknown, to: '+18885550123', status: 'busy' })).status).toBe(200);
      await app.drainOutbox();

      expect(app.smsTo(toSystem).map((m) => m.body)).toEqual([texts.failsafe]);
      expect(app.smsTo(toSystem)[0]!.from).toBe(app.systemNumber);
      expect(app.smsTo(toUnknown).map((m) => m.body)).toEqual([texts.failsafe]);
      expect(await counterValue(app.ctx.metrics.failsafeIntakes)).toBe(before + 2);
      expect(app.logs.find('ACTION REQUIRED')).toHaveLength(2);
      // Nothing names the callers but the outbox row of the text itself (durable, once per
      // CallSid by its send key: issue 11), and onboarding was not touched.
      const needles = [toSystem, toUnknown, nationalDigits(toSystem), nationalDigits(toUnknown)];
      expect((await rowsMentioning(app.ctx.db, needles)).filter(({ table }) => table !== 'outbound_messages')).toEqual([]);
      expect(
        await app.ctx.db.prisma.outboundMessage.findMany({
          where: { toPhone: { in: [toSystem, toUnknown] } },
          select: { purpose: true, sendKey: true, status: true },
        }),
      ).toEqual([expect.objectContaining({ purpose: 'failsafe', status: 'sent' }), expect.objectContaining({ purpose: 'failsafe', status: 'sent' })]);
      if (app.storage.redisPrefix !== undefined)
        expect((await redisValuesAsText(app.storage.redisPrefix)).filter(({ value }) => needles.some((n) => value.includes(n)))).toEqual([]);
      expect(await app.ctx.db.prisma.client.count({ where: { phone: { in: [toSystem, toUnknown] } } })).toBe(0);
    },
  );
});
