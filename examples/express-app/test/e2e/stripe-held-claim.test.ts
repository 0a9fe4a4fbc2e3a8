// Issue 11, the chaos run's combined scenario: Stripe's first delivery reached an instance 1 s
// before it was SIGKILLed. Its retry on another instance waited 8 s on the dead holder's
// claim and got 409: a valid event refused, and left to a holder that would never finish it.
// A retry that finds the event still held now keeps it (delivery log + a job delayed to the
// claim's lease end) and answers 200; the app processes it itself through the same claims.
// The dead holder is a claim taken in the shared stores with work that never ends, on a
// 12 s lease (the app's is 60 s) so the test does not wait a minute.
import { eventually, requirePostgres, requireRedis, type PrivateRedis } from '@hardening/test-support';
import { createPrismaStore, createWebhookDedup, type IdempotencyStore } from '@hardening/idempotency';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkoutCompleted, invoicePaid } from './support/events.js';
import { phone } from './support/phones.js';
import { startAppOnPrivateRedis } from './support/private-redis-app.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const postgresUp = await requirePostgres();
const redisUp = await requireRedis();

const holderLeaseMs = 12_000;

/** Claims `event` in `store` as a delivery that never finishes (an instance killed mid-event), on a short lease. */
function holdForever(store: IdempotencyStore, logger: TestApp['ctx']['logger'], event: Record<string, unknown>): Promise<void> {
  return new Promise<void>((claimed) => {
    const holder = createWebhookDedup({ store, logger, leaseMs: holderLeaseMs });
    const never = new Promise<never>(() => {});
    holder
      .stripe(
        { id: event.id as string, type: event.type as string },
        () => {
          claimed();
          return never;
        },
        {},
      )
      .catch(() => {});
  });
}

// Concurrent: each test waits out a holder's lease (12 s) on its own event.
describe.skipIf(!postgresUp || !redisUp)('a Stripe retry while another delivery holds the event (PostgreSQL + Redis)', { concurrent: true }, () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ spec: { backend: 'postgres', redis: true }, label: 'stripeheld' });
    await app.addPoolNumbers(2);
  }, 60_000);
  afterAll(async () => app?.close());

  const runsOf = (eventId: string) => app.logs.find('Stripe event processed').filter((r) => (r as { eventId?: string }).eventId === eventId).length;

  const deliveryOf = (eventId: string) =>
    app.ctx.db.prisma.webhookDelivery.findUnique({ where: { provider_eventId_kind: { provider: 'stripe', eventId, kind: 'process_stripe_event' } } });

  it("the retry is answered 200 (not 409) and the app processes the event once, after the dead holder's lease", async () => {
    const owner = phone();
    for (const body of ['Hi', 'Held Heating', 'We serve Shelbyville', 'YES']) await app.sms({ from: owner, to: app.systemNumber, body });
    const { id: clientId } = await app.ctx.db.prisma.client.findUniqueOrThrow({ where: { phone: owner } });
    const event = checkoutCompleted(clientId);
    const eventId = event.id as string;
    // The killed instance got as far as the PostgreSQL claim.
    await holdForever(createPrismaStore({ prisma: app.ctx.db.prisma }), app.ctx.logger, event);

    const retry = await app.stripeEvent(event);
    expect(retry.status).toBe(200);
    expect(JSON.parse(retry.body)).toMatchObject({ received: true, deferred: true });
    expect(runsOf(eventId)).toBe(0);
    expect(await deliveryOf(eventId)).toMatchObject({ status: 'pending' });

    await eventually(() => Promise.resolve(runsOf(eventId) === 1), 60_000, 250);
    expect(await app.ctx.db.prisma.client.findUniqueOrThrow({ where: { id: clientId } })).toMatchObject({
      paymentActive: true,
      onboardingState: 'S9_TEST_CALL',
    });
    await eventually(async () => (await deliveryOf(eventId))?.status === 'completed', 30_000, 250);
    // Stripe's next retry (it had a 200, so there is none; a manual resend from the dashboard) is a duplicate.
    expect((await app.stripeEvent(event)).status).toBe(200);
    expect(runsOf(eventId)).toBe(1);
  }, 120_000);

  it('a retry that finds the event claimed in Redis alone (while PostgreSQL failed) never runs beside that claim', async () => {
    const event = invoicePaid();
    const eventId = event.id as string;
    // A delivery handled while PostgreSQL failed holds the claim in Redis only, still running.
    await holdForever(app.ctx.idempotencyStore, app.ctx.logger, event);

    const retry = await app.stripeEvent(event);
    expect(retry.status).toBe(200);
    expect(JSON.parse(retry.body)).toMatchObject({ deferred: true });
    // Not run inside the PostgreSQL claim while Redis's holder may still be at it.
    expect(runsOf(eventId)).toBe(0);
    await eventually(() => Promise.resolve(runsOf(eventId) === 1), 60_000, 250);
    await eventually(async () => (await deliveryOf(eventId))?.status === 'completed', 30_000, 250);
    expect(runsOf(eventId)).toBe(1);
  }, 120_000);
});

describe.skipIf(!postgresUp || !redisUp)(
  'a Stripe retry that finds the event held while Redis (the queue) is down (private redis-server)',
  { concurrent: true },
  () => {
    let app: TestApp;
    let redis: PrivateRedis;
    beforeAll(async () => {
      ({ app, redis } = await startAppOnPrivateRedis(`stripe-held-redis-${Date.now().toString(36)}`, {}));
    }, 60_000);
    afterAll(async () => {
      await app?.close();
      await redis?.stop();
    });

    // The chaos run's combined scenario: the retry came as Redis restarted, BullMQ's add did not
    // answer within the 1.5 s the retry had left, and the event (kept in the delivery log) was
    // answered 409 anyway.
    it('is kept once its delivery row is written, answered 200, and processed once the queue is back', async () => {
      const event = invoicePaid();
      const eventId = event.id as string;
      const runs = () => app.logs.find('Stripe event processed').filter((r) => (r as { eventId?: string }).eventId === eventId).length;
      await holdForever(createPrismaStore({ prisma: app.ctx.db.prisma }), app.ctx.logger, event);
      await redis.stop();
      let retry: Awaited<ReturnType<TestApp['stripeEvent']>>;
      try {
        retry = await app.stripeEvent(event);
      } finally {
        await redis.start();
      }
      expect(retry.status).toBe(200);
      expect(JSON.parse(retry.body)).toMatchObject({ deferred: true });
      expect(runs()).toBe(0);
      await eventually(() => Promise.resolve(runs() === 1), 90_000, 250);
    }, 150_000);
  },
);
