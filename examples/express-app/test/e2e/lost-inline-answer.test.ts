// Issue 11, the chaos run's "reply recorded as sent inline that never went out": the first
// delivery of an SMS chose the TwiML answer, then its write hung on the database past
// Twilio's 15 s. Twilio gave up (closed the connection) and retried; the retry, past the
// dedup's wait for the stuck first copy, was answered the holding text; the first copy then
// committed `reply_via = 'twiml'` and wrote the reply to a closed socket. Nobody sent it.
// Here: PostgreSQL behind a proxy that delays what the app sends it, Redis, the fake Twilio's
// recordings. The reply must reach the customer exactly once (through the outbox).
import { eventually, requirePostgres, requireRedis } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { texts } from '../../src/domain/messages.js';
import { controlledExtractor } from './support/extractors.js';
import { onboardClient, type OnboardedClient } from './support/flows.js';
import { messageSid, phone } from './support/phones.js';
import { smsAfterRecovery } from './support/recovered-replies.js';
import { twilioSignature } from './support/signing.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { twilioSmsParams } from './support/twilio-sms-params.js';

const postgresUp = await requirePostgres();
const redisUp = await requireRedis();

describe.skipIf(!postgresUp || !redisUp)('an inline reply whose answer never reached Twilio (PostgreSQL behind a proxy, Redis)', () => {
  let app: TestApp;
  let client: OnboardedClient;
  const provider = controlledExtractor();

  beforeAll(async () => {
    app = await startTestApp({
      spec: { backend: 'postgres', redis: true },
      storageOptions: { databaseProxy: true },
      label: 'lostinline',
      overrides: { extractor: provider.extractor },
    });
    await app.addPoolNumbers(1);
    client = await onboardClient(app, { businessName: 'Punctual Plumbing' });
  }, 120_000);
  afterAll(async () => {
    // Statements the proxy still holds back (16 s each) are not waited for: the assertions are
    // made, and closing the pool waited for their answers (12.4 s of the file's 30 s). Cut
    // drops those connections, so the close ends at once.
    app?.storage.proxy?.cut();
    await app?.close();
  });

  it('Twilio gives up while the TwiML reply is being committed: the reply goes out once, by SMS; the retry gets the holding text', async () => {
    const customer = phone();
    const sid = messageSid();
    const params = twilioSmsParams({
      messageSid: sid,
      from: customer,
      to: client.number,
      body: 'Boiler making a noise',
      accountSid: app.providers.twilio.accountSid,
    });
    const deliver = (signal?: AbortSignal) =>
      fetch(`${app.url}/sms`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'I-Twilio-Idempotency-Token': `${sid}-token`,
          'X-Twilio-Signature': twilioSignature(app.providers.twilio.authToken, `${app.publicBaseUrl}/sms`, params),
        },
        body: new URLSearchParams(params).toString(),
        ...(signal === undefined ? {} : { signal }),
      });
    provider.reset();
    // The extractor's 1.5 s: processing is under way when the database turns slow for inbox
    // writes; it then chooses the TwiML path, and its write is held.
    provider.slow(1500, 'customer_message');
    const twilioGivesUp = new AbortController();
    const first = deliver(twilioGivesUp.signal).catch((error: unknown) => error);
    let retry: { status: number; body: string };
    try {
      await eventually(() => Promise.resolve(provider.calls.includes('customer_message')), 20_000, 20);
      // Every inbox write the app sends PostgreSQL from now on (the hot path's named
      // statements, Prisma's SQL) arrives 16 s late: longer than the retry's wait for the
      // stuck first copy (10 s) plus its own look at the inbox.
      app.storage.proxy!.slow((chunk) => (chunk.includes('inbound_events') || chunk.includes('sms_receive_') || chunk.includes('sms_guess_') ? 16_000 : 0));
      // Past the extractor: the first copy has claimed the TwiML path and is committing.
      // (Twilio waits 15 s; the test gives up sooner, it is the closed connection that counts.)
      await new Promise((resolve) => setTimeout(resolve, 4000));
      twilioGivesUp.abort();
      const retried = await deliver();
      retry = { status: retried.status, body: await retried.text() };
    } finally {
      app.storage.proxy!.restore();
      provider.reset();
    }
    expect(await first).toBeInstanceOf(Error); // Twilio never got the first answer
    expect(retry.status).toBe(200);
    expect(retry.body).toContain(texts.holding);
    const reply = texts.customerAck('Punctual Plumbing');
    // The first copy's held write lands (processed): only then may the sweep drain the spooled
    // retry, else the sweep's processing of the spooled copy may win and send the reply itself.
    await eventually(async () => (await app.ctx.db.prisma.inboundEvent.findUnique({ where: { messageSid: sid } }))?.status === 'processed', 40_000, 200);
    // The reply arrives by SMS (the outbox, or the sweep's processing of a spooled copy).
    // Once: later sweeps and outbox rounds add nothing.
    expect((await smsAfterRecovery(app, customer)).map((m) => m.body)).toEqual([reply]);
    const row = await app.ctx.db.prisma.inboundEvent.findUniqueOrThrow({ where: { messageSid: sid } });
    expect(row).toMatchObject({ status: 'processed', replyVia: 'outbox' });
  }, 120_000);
});
