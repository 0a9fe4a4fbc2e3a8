// Stripe payment activation over real HTTP, with events signed by the Stripe SDK: in
// order, out of order (paid before confirming), by metadata, and events the app ignores.
import { eventually, requirePostgres, requireRedis, startPrivateRedis, type PrivateRedis } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { texts } from '../../src/domain/messages.js';
import { checkoutCompleted, invoicePaid } from './support/events.js';
import { onboardClient } from './support/flows.js';
import { counterValue } from './support/metrics.js';
import { phone } from './support/phones.js';
import { startAppOnPrivateRedis } from './support/private-redis-app.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const postgresUp = await requirePostgres();

describe.skipIf(!postgresUp)('Stripe payment activation (PostgreSQL)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ spec: { backend: 'postgres', redis: false }, label: 'stripe' });
    await app.addPoolNumbers(4);
  });
  afterAll(async () => app?.close());

  const client = (owner: string) => app.ctx.db.prisma.client.findUniqueOrThrow({ where: { phone: owner } });
  async function reach(owner: string, steps: readonly string[]): Promise<string[]> {
    const replies: string[] = [];
    for (const body of steps) replies.push((await app.sms({ from: owner, to: app.systemNumber, body })).messages[0]!);
    return replies;
  }

  it('checkout.session.completed for a client waiting to pay: payment active, on to the test call, the owner told by SMS', async () => {
    const owner = phone();
    const replies = await reach(owner, ['Hi', 'Prompt Pest Control', 'We serve Springfield', 'YES']);
    const number = /assistant number is (\+\d+)/.exec(replies[2]!)![1]!;
    const { id } = await client(owner);
    expect(replies[3]).toBe(texts.paymentNeeded(`${app.config.env.STRIPE_PAYMENT_LINK}?client_reference_id=${id}`));
    const reply = await app.stripeEvent(checkoutCompleted(id));
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ received: true });
    expect(await client(owner)).toMatchObject({ paymentActive: true, onboardingState: 'S9_TEST_CALL' });
    await app.drainOutbox();
    expect(app.smsTo(owner).map((m) => m.body)).toEqual([texts.testCall(number)]);
  });

  it('paid before confirming (events out of order): the payment is kept, and YES then goes straight to the test call', async () => {
    const owner = phone();
    const replies = await reach(owner, ['Hi', 'Early Bird Electric', 'We serve Shelbyville']);
    const number = /assistant number is (\+\d+)/.exec(replies[2]!)![1]!;
    const { id } = await client(owner);
    expect((await app.stripeEvent(checkoutCompleted(id))).status).toBe(200);
    expect(await client(owner)).toMatchObject({ paymentActive: true, onboardingState: 'S4_NUMBER_ALLOCATED' });
    const yes = await app.sms({ from: owner, to: app.systemNumber, body: 'yes please' });
    expect(yes.messages).toEqual([texts.testCall(number)]);
    expect((await client(owner)).onboardingState).toBe('S9_TEST_CALL');
    expect(await app.drainOutbox()).toMatchObject({ sent: 0 });
  });

  it('a checkout naming the client in its metadata instead of client_reference_id', async () => {
    const owner = phone();
    await reach(owner, ['Hi', 'Meta Masonry', 'We serve Ogdenville', 'YES']);
    const { id } = await client(owner);
    const event = checkoutCompleted(undefined);
    (event.data as { object: { metadata: Record<string, string> } }).object.metadata.clientId = id;
    expect((await app.stripeEvent(event)).status).toBe(200);
    expect((await client(owner)).paymentActive).toBe(true);
  });

  it('a checkout for a client already live changes nothing and texts nobody', async () => {
    const live = await onboardClient(app, { businessName: 'Done Deal Drains' });
    const sentBefore = app.smsTo(live.owner).length;
    expect((await app.stripeEvent(checkoutCompleted(live.clientId))).status).toBe(200);
    expect(await client(live.owner)).toMatchObject({ onboardingState: 'COMPLETE', paymentActive: true });
    await app.drainOutbox();
    expect(app.smsTo(live.owner)).toHaveLength(sentBefore);
  });

  it('event types the app does not act on are acknowledged and counted as ignored', async () => {
    const before = await counterValue(app.ctx.metrics.webhooks, { provider: 'stripe', outcome: 'ignored' });
    const reply = await app.stripeEvent(invoicePaid());
    expect(reply.status).toBe(200);
    expect(await counterValue(app.ctx.metrics.webhooks, { provider: 'stripe', outcome: 'ignored' })).toBe(before + 1);
  });
});

describe.skipIf(!postgresUp)('Stripe events when Redis, the idempotency store, restarts empty or is down', () => {
  let app: TestApp;
  let redis: PrivateRedis;
  beforeAll(async () => {
    ({ app, redis } = await startAppOnPrivateRedis(`stripe-redis-${Date.now().toString(36)}`, {}));
    await app.addPoolNumbers(2);
  });
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  it('an event handled while Redis was up, redelivered after Redis restarted empty, is a duplicate: its record is in PostgreSQL', async () => {
    const owner = phone();
    for (const body of ['Hi', 'Restart Roofing', 'We serve Ogdenville', 'YES']) await app.sms({ from: owner, to: app.systemNumber, body });
    const { id } = await app.ctx.db.prisma.client.findUniqueOrThrow({ where: { phone: owner } });
    const event = checkoutCompleted(id);
    expect((await app.stripeEvent(event)).status).toBe(200);
    await redis.stop();
    await redis.start(); // empty: the private server keeps nothing
    const again = await app.stripeEvent(event);
    expect(again.status).toBe(200);
    const runs = app.logs.find('Stripe event processed').filter((r) => (r as { eventId?: string }).eventId === event.id);
    expect(runs).toHaveLength(1);
  });

  it('no 5xx: the event is claimed in PostgreSQL, processed once, and a redelivery is a duplicate', async () => {
    const owner = phone();
    for (const body of ['Hi', 'Fallback Flooring', 'We serve Ogdenville', 'YES']) await app.sms({ from: owner, to: app.systemNumber, body });
    const { id } = await app.ctx.db.prisma.client.findUniqueOrThrow({ where: { phone: owner } });
    const event = checkoutCompleted(id);
    await redis.stop();
    const first = await app.stripeEvent(event);
    expect(first.status).toBe(200);
    expect(await app.ctx.db.prisma.client.findUniqueOrThrow({ where: { phone: owner } })).toMatchObject({
      paymentActive: true,
      onboardingState: 'S9_TEST_CALL',
    });
    // Stripe's redelivery while Redis is still down: the PostgreSQL record answers it.
    const again = await app.stripeEvent(event);
    expect(again.status).toBe(200);
    expect(await counterValue(app.ctx.metrics.duplicates, { provider: 'stripe' })).toBe(2);
    expect(await app.ctx.db.prisma.idempotencyRecord.count({ where: { key: { contains: event.id as string } } })).toBe(1);
    await app.drainOutbox();
    expect(app.smsTo(owner).filter((m) => m.body.startsWith(texts.testCall('').slice(0, 20)))).toHaveLength(1);
  });
});

const redisUp = await requireRedis();

describe.skipIf(!postgresUp || !redisUp)('Stripe events while PostgreSQL, where they are deduplicated, is down (Redis up)', () => {
  let app: TestApp;
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    app = await startTestApp({
      spec: { backend: 'postgres', redis: false },
      storageOptions: { databaseProxy: true },
      env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'stripe-pgdown' },
      label: 'stripepgdown',
    });
  }, 60_000);
  afterAll(async () => {
    app?.storage.proxy?.restore();
    await app?.close();
    await redis?.stop();
  });

  it("no 5xx: the event is claimed in Redis alone and handled once; a redelivery once PostgreSQL is back replays Redis's record", async () => {
    const event = invoicePaid();
    const runs = () => app.logs.find('Stripe event processed').filter((r) => (r as { eventId?: string }).eventId === event.id).length;
    app.storage.proxy!.cut();
    try {
      expect((await app.stripeEvent(event)).status).toBe(200);
    } finally {
      app.storage.proxy!.restore();
    }
    expect(runs()).toBe(1);
    expect(app.logs.find('Stripe event deduplicated in Redis alone').length).toBe(1);
    // PostgreSQL back (its breaker may hold calls a few seconds): the redelivery is answered, not run again.
    await eventually(async () => (await app.stripeEvent(event)).status === 200, 30_000, 500);
    expect(runs()).toBe(1);
  }, 60_000);
});
