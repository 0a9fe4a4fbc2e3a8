// Issue 11, "holding reply with no real reply": when the idempotency store cannot answer for
// an SMS already processed (Redis restarted empty, Redis down, a concurrent delivery waiting
// on the inbox row), the redelivery gets the first delivery's real reply again, kept with
// the inbox row, never a holding text with the reply only in an answer Twilio discarded.
import { requirePostgres, requireRedis, type PrivateRedis } from '@hardening/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { texts } from '../../src/domain/messages.js';
import { controlledExtractor } from './support/extractors.js';
import { onboardClient, type OnboardedClient } from './support/flows.js';
import { messageSid, phone } from './support/phones.js';
import { startAppOnPrivateRedis } from './support/private-redis-app.js';
import type { TestApp } from './support/test-app.js';

const postgresUp = await requirePostgres();
const redisUp = await requireRedis();

describe.skipIf(!postgresUp || !redisUp)('a redelivered SMS gets its real reply again (PostgreSQL + a private redis-server)', () => {
  let redis: PrivateRedis;
  let app: TestApp;
  let client: OnboardedClient;
  const provider = controlledExtractor();

  beforeAll(async () => {
    ({ app, redis } = await startAppOnPrivateRedis('replay', { extractor: provider.extractor, inlineBudgetMs: 2000 }));
    client = await onboardClient(app, { businessName: 'Replay Plumbing' });
  });
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  const inboundCount = async (customer: string) =>
    app.ctx.db.prisma.message.count({ where: { direction: 'INBOUND', conversation: { customer: { phone: customer } } } });

  it('Redis restarted empty: the redelivery gets the real reply from the inbox row, and nothing is sent twice', async () => {
    const customer = phone();
    const sid = messageSid();
    const first = await app.sms({ from: customer, to: client.number, body: 'Can you fix a dripping tap?', messageSid: sid });
    expect(first.messages).toEqual([texts.customerAck('Replay Plumbing')]);
    await redis.stop();
    await redis.start();
    const again = await app.sms({ from: customer, to: client.number, body: 'Can you fix a dripping tap?', messageSid: sid });
    expect(again.status).toBe(200);
    expect(again.messages).toEqual([texts.customerAck('Replay Plumbing')]);
    expect(await inboundCount(customer)).toBe(1);
    expect((await app.drainOutbox()).sent).toBe(0);
    expect(app.smsTo(customer)).toEqual([]);
  });

  it('Redis down: the redelivery of a processed SMS still gets its real reply', async () => {
    const customer = phone();
    const sid = messageSid();
    const first = await app.sms({ from: customer, to: client.number, body: 'Boiler service next week?', messageSid: sid });
    expect(first.messages).toEqual([texts.customerAck('Replay Plumbing')]);
    await redis.stop();
    try {
      const again = await app.sms({ from: customer, to: client.number, body: 'Boiler service next week?', messageSid: sid });
      expect(again.status).toBe(200);
      expect(again.messages).toEqual([texts.customerAck('Replay Plumbing')]);
    } finally {
      await redis.start();
    }
    expect(await inboundCount(customer)).toBe(1);
    expect((await app.drainOutbox()).sent).toBe(0);
  });

  it('a reply that went through the outbox (the first answer was the holding text): the redelivery gets the holding text, and the reply is sent once', async () => {
    const customer = phone();
    const sid = messageSid();
    const inbox = await app.ctx.db.prisma.inboundEvent.findMany({ where: { messageSid: sid } });
    expect(inbox).toEqual([]);
    // Processing slower than the inline budget: holding text now, reply through the outbox.
    provider.slow(app.ctx.inlineBudgetMs + 1500, 'customer_message');
    const first = await app.sms({ from: customer, to: client.number, body: 'Radiator cold upstairs', messageSid: sid });
    provider.reset();
    expect(first.messages).toEqual([texts.holding]);
    await expect
      .poll(async () => (await app.ctx.db.prisma.inboundEvent.findUniqueOrThrow({ where: { messageSid: sid } })).status, { timeout: 15_000 })
      .toBe('processed');
    await redis.stop();
    await redis.start();
    const again = await app.sms({ from: customer, to: client.number, body: 'Radiator cold upstairs', messageSid: sid });
    expect(again.messages).toEqual([texts.holding]);
    expect((await app.drainOutbox()).sent).toBe(1);
    expect(app.smsTo(customer).map((m) => m.body)).toEqual([texts.customerAck('Replay Plumbing')]);
  });

  it('a claim that reached Redis after its delivery gave up on it (stuck in progress): the redelivery waits it out and gets the real reply, not the holding text', async () => {
    // The chaos run's case (combined scenario): the first delivery's claim timed out on a
    // restarting Redis, it carried on with the inbox dedup and answered inline, but the claim
    // landed in Redis after all, in progress with a 60 s lease nobody completes. Twilio acts
    // on the answer to its last attempt only: the redelivery must carry the reply again.
    const customer = phone();
    const sid = messageSid();
    const first = await app.sms({ from: customer, to: client.number, body: 'Quote for a new tap washer?', messageSid: sid });
    expect(first.messages).toEqual([texts.customerAck('Replay Plumbing')]);
    await redis.stop();
    await redis.start();
    const stuck = await app.ctx.idempotencyStore.claim({
      key: `webhook:twilio:sms:${sid}`,
      token: 'claim-whose-client-gave-up',
      fingerprint: '',
      leaseMs: 60_000,
    });
    expect(stuck.status).toBe('claimed');
    const again = await app.sms({ from: customer, to: client.number, body: 'Quote for a new tap washer?', messageSid: sid });
    expect(again.status).toBe(200);
    expect(again.messages).toEqual([texts.customerAck('Replay Plumbing')]);
    // The only test that waits out the dedup's real 10 s: the answer still beats Twilio's 15 s.
    expect(again.elapsedMs).toBeLessThan(15_000);
    expect(await inboundCount(customer)).toBe(1);
    expect((await app.drainOutbox()).sent).toBe(0);
    expect(app.smsTo(customer)).toEqual([]);
  }, 40_000);

  it('an answer given while Redis was down is recorded in the store once Redis is back: a redelivery can replay it without the database', async () => {
    // The chaos run's other case: the first copy answered inline with Redis restarting, its
    // redelivery found Redis back and empty while PostgreSQL hung, and answered the holding
    // text (the inbox row, which keeps the reply, could not be read). Now the store gets the
    // answer as soon as it is back.
    const customer = phone();
    const sid = messageSid();
    await redis.stop();
    let first: Awaited<ReturnType<typeof app.sms>>;
    try {
      first = await app.sms({ from: customer, to: client.number, body: 'Quote for a garden tap?', messageSid: sid });
    } finally {
      await redis.start();
    }
    expect(first.messages).toEqual([texts.customerAck('Replay Plumbing')]);
    const reader = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await reader.connect();
      const recorded = async () => {
        const [, keys] = await reader.scan('0', 'MATCH', `*webhook:twilio:sms:${sid}}`, 'COUNT', 10_000);
        return keys.length === 1 ? await reader.get(keys[0]!) : null;
      };
      // 'C' marks a completed record (redis-store.ts); it carries the TwiML with the reply.
      await expect.poll(async () => (await recorded())?.slice(0, 1), { timeout: 20_000, interval: 250 }).toBe('C');
      expect(await recorded()).toContain('got your message and will get back to you shortly');
    } finally {
      reader.disconnect();
    }
    const again = await app.sms({ from: customer, to: client.number, body: 'Quote for a garden tap?', messageSid: sid });
    expect(again.messages).toEqual([texts.customerAck('Replay Plumbing')]);
    expect(await inboundCount(customer)).toBe(1);
    expect((await app.drainOutbox()).sent).toBe(0);
    expect(app.smsTo(customer)).toEqual([]);
  }, 40_000);
});
