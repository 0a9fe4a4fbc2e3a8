// Acceptance rule: no webhook retry storms. Duplicate deliveries (a provider's retries,
// bursts of them) are answered 200 with the first reply and do no work again, so nothing
// invites the provider to retry once more.
import { eventually, requirePostgres, requireRedis } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { texts } from '../../src/domain/messages.js';
import { checkoutCompleted, invoicePaid, slackMessage } from './support/events.js';
import { controlledExtractor } from './support/extractors.js';
import { onboardClient, type OnboardedClient } from './support/flows.js';
import { counterValue } from './support/metrics.js';
import { callSid, messageSid, phone } from './support/phones.js';
import { startTestApp, type HttpReply, type TestApp } from './support/test-app.js';

const redisUp = await requireRedis();
const postgresUp = await requirePostgres();

describe.skipIf(!redisUp || !postgresUp)('no webhook retry storms (PostgreSQL + Redis)', () => {
  let app: TestApp;
  let client: OnboardedClient;
  const provider = controlledExtractor();

  beforeAll(async () => {
    app = await startTestApp({ spec: { backend: 'postgres', redis: true }, label: 'storms', overrides: { extractor: provider.extractor } });
    await app.addPoolNumbers(2);
    client = await onboardClient(app, { businessName: 'Calm Cooling' });
  });
  afterAll(async () => app?.close());

  const allOk = (replies: HttpReply[]) => expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));

  it('a burst of 10 deliveries of one inbound SMS: all 200 with the same TwiML, processed once', async () => {
    provider.reset();
    provider.slow(200, 'customer_message');
    const customer = phone();
    const sid = messageSid();
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => app.sms({ from: customer, to: client.number, body: 'AC is not cooling', messageSid: sid })),
    );
    const extractions = provider.calls.length;
    provider.reset();
    allOk(replies);
    expect(new Set(replies.map((r) => r.body))).toEqual(new Set([replies[0]!.body]));
    expect(replies[0]!.messages).toEqual([texts.customerAck('Calm Cooling')]);
    expect(extractions).toBe(1);
    expect(await app.ctx.db.prisma.inboundEvent.count({ where: { messageSid: sid } })).toBe(1);
    expect(await counterValue(app.ctx.metrics.duplicates, { provider: 'twilio_sms' })).toBeGreaterThanOrEqual(9);
  });

  it('a burst of 10 deliveries of one voice status callback: all 200, one text-back', async () => {
    const caller = phone();
    const sid = callSid();
    allOk(await Promise.all(Array.from({ length: 10 }, () => app.callStatus({ callSid: sid, from: caller, to: client.number, status: 'no-answer' }))));
    expect(await app.ctx.db.prisma.outboundMessage.count({ where: { toPhone: caller } })).toBe(1);
    expect((await app.drainOutbox()).sent).toBe(1);
  });

  it("Stripe's retries of one event: 200 each, with the first answer, one activation", async () => {
    const owner = phone();
    let pay = '';
    for (const body of ['Hi', 'Retry Roofing', 'We serve Springfield', 'YES']) pay = (await app.sms({ from: owner, to: app.systemNumber, body })).messages[0]!;
    const clientId = decodeURIComponent(/client_reference_id=([^\s&]+)/.exec(pay)![1]!);
    const event = checkoutCompleted(clientId);
    const replies: HttpReply[] = [];
    for (let i = 0; i < 4; i++) replies.push(await app.stripeEvent(event));
    allOk(replies);
    expect(new Set(replies.map((r) => r.body))).toEqual(new Set(['{"received":true}']));
    expect((await app.drainOutbox()).sent).toBe(1);
    expect(await counterValue(app.ctx.metrics.webhooks, { provider: 'stripe', outcome: 'payment_activated' })).toBe(2); // this one, and onboardClient's
    // Event types the app does not act on are acknowledged too (never a 4xx/5xx that Stripe retries for days).
    allOk([await app.stripeEvent(invoicePaid())]);
  });

  it("Slack's retries of one event (X-Slack-Retry-Num 1..3): 200 each, one signal, evaluated once", async () => {
    const envelope = slackMessage('Need someone for a gutter job');
    const replies = [await app.slackEvent(envelope)];
    for (const retryNum of [1, 2, 3]) replies.push(await app.slackEvent(envelope, { retryNum, retryReason: 'http_timeout' }));
    allOk(replies);
    const eventId = envelope.event_id as string;
    expect(await app.ctx.db.prisma.slackSignal.count({ where: { eventId } })).toBe(1);
    await eventually(async () => (await app.ctx.db.prisma.webhookDelivery.findFirst({ where: { eventId } }))?.status === 'completed', 10_000);
    expect((await app.ctx.db.prisma.webhookDelivery.findFirstOrThrow({ where: { eventId } })).attempts).toBe(1);
  });

  it('a delivery-status callback delivered twice: one update, one alert', async () => {
    const caller = phone();
    await app.callStatus({ callSid: callSid(), from: caller, to: client.number, status: 'busy' });
    await app.drainOutbox();
    const sent = app.smsTo(caller)[0]!;
    const first = await app.providers.twilio.sendStatus(sent.sid, 'undelivered', { errorCode: 30006 });
    const again = await app.providers.twilio.sendStatus(sent.sid, 'undelivered', { errorCode: 30006 });
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(again.body).toBe(first.body);
    expect(await app.ctx.db.prisma.outboundMessage.findFirstOrThrow({ where: { toPhone: caller } })).toMatchObject({
      status: 'undelivered',
      lastError: 'Twilio undelivered (error 30006)',
    });
    // The alert is raised without holding the answer back: wait for it, then count.
    await eventually(() => app.logs.find(/SMS was not delivered|SMS_UNDELIVERED/).length >= 1, 10_000);
    expect(app.logs.find(/SMS was not delivered|SMS_UNDELIVERED/).length).toBe(1);
  });
});
