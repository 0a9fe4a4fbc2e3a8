// Issue 11, "409 to a duplicate while the first copy is stuck on a hung database": each
// provider gets the answer it needs (see docs/operations.md, "Duplicates in flight"):
// Twilio a 200 TwiML that is not a second reply (the holding text), Slack a 2xx. Stripe keeps
// its 409 + Retry-After: Stripe retries later with its own backoff, no storm.
import { requirePostgres, requireRedis } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { texts } from '../../src/domain/messages.js';
import { slackMessage } from './support/events.js';
import { startProxiedAppWithClient, type OnboardedClient } from './support/flows.js';
import { messageSid, phone, slackEventId } from './support/phones.js';
import { smsAfterRecovery } from './support/recovered-replies.js';
import type { TestApp } from './support/test-app.js';

const postgresUp = await requirePostgres();
const redisUp = await requireRedis();

describe.skipIf(!postgresUp || !redisUp)('a duplicate while the first delivery is stuck on a hung database (PostgreSQL behind a proxy, Redis)', () => {
  let app: TestApp;
  let client: OnboardedClient;

  beforeAll(async () => {
    ({ app, client } = await startProxiedAppWithClient({ label: 'inflight', redis: true, businessName: 'Patient Plumbing' }));
  }, 120_000);
  afterAll(async () => app?.close());

  it('Twilio SMS: the redelivery gets a 200 with the holding text, never a 409 nor a second reply; the message is not lost', async () => {
    const customer = phone();
    const sid = messageSid();
    app.storage.proxy!.hang();
    let first: ReturnType<TestApp['sms']>;
    let retry: Awaited<ReturnType<TestApp['sms']>>;
    try {
      first = app.sms({ from: customer, to: client.number, body: 'Water heater leaking', messageSid: sid });
      await new Promise((r) => setTimeout(r, 500));
      retry = await app.sms({ from: customer, to: client.number, body: 'Water heater leaking', messageSid: sid });
    } finally {
      app.storage.proxy!.restore();
    }
    expect(retry.status).toBe(200);
    expect(retry.messages).toEqual([texts.holding]);
    const answered = await first;
    expect(answered.status).toBe(200);
    // The first copy answered the holding text too (spooled, or past its budget): the reply
    // itself goes through the outbox once the database answers.
    expect(answered.messages).toEqual([texts.holding]);
    expect((await smsAfterRecovery(app, customer)).map((m) => m.body)).toEqual([texts.customerUrgentAck('Patient Plumbing')]);
  }, 90_000);

  it('Twilio SMS during a hang longer than Twilio waits: answered inside its 15 s (holding text, spooled), the reply arrives once afterwards', async () => {
    // The combined chaos run: /sms deliveries waited on the inbox write (a hung database
    // never answers the pool's open connections) until Twilio's 15 s were gone.
    const customer = phone();
    const sid = messageSid();
    app.storage.proxy!.hang();
    let answered: Awaited<ReturnType<TestApp['sms']>>;
    try {
      answered = await app.sms({ from: customer, to: client.number, body: 'Burst pipe in the kitchen', messageSid: sid });
    } finally {
      app.storage.proxy!.restore();
    }
    expect(answered.status).toBe(200);
    expect(answered.messages).toEqual([texts.holding]);
    // Twilio's own deadline (the app aims at 12 s): a later answer is a timeout to Twilio.
    expect(answered.elapsedMs).toBeLessThan(15_000);
    expect(await smsAfterRecovery(app, customer)).toHaveLength(1);
  }, 120_000);

  it('Slack: the retry of an event whose first delivery is still being stored gets a 200', async () => {
    const envelope = slackMessage('Anyone free for a boiler service?', { eventId: slackEventId() });
    app.storage.proxy!.hang();
    let first: ReturnType<TestApp['slackEvent']>;
    let retry: Awaited<ReturnType<TestApp['slackEvent']>>;
    try {
      first = app.slackEvent(envelope);
      await new Promise((r) => setTimeout(r, 300));
      retry = await app.slackEvent(envelope, { retryNum: 1, retryReason: 'http_timeout' });
    } finally {
      app.storage.proxy!.restore();
    }
    expect(retry.status).toBe(200);
    // Slack's 3 s budget, with margin for a loaded machine.
    expect(retry.elapsedMs).toBeLessThan(3000);
    expect((await first).status).toBe(200);
  }, 60_000);
});
