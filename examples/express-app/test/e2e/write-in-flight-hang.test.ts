// Issue 12's chaos run, `combined`: an SMS arrived the very moment PostgreSQL hung. Its write
// had claimed the TwiML answer and was on the wire, and the webhook waited for a write that
// had claimed the answer without a bound: it answered after 15.045 s, past Twilio's 15 s.
// Here: PostgreSQL behind a proxy that forwards the write and then hangs (its answer never
// comes) until the connections are reset. The answer must come within Twilio's 15 s, and the
// reply must reach the sender exactly once, whether the write committed or not.
import { requirePostgres, requireRedis } from '@hardening/test-support';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { texts } from '../../src/domain/messages.js';
import { startProxiedAppWithClient, type OnboardedClient } from './support/flows.js';
import { messageSid, phone } from './support/phones.js';
import { smsAfterRecovery } from './support/recovered-replies.js';
import type { HttpReply, TestApp } from './support/test-app.js';

const postgresUp = await requirePostgres();
const redisUp = await requireRedis();

/** Twilio's wait for the webhook's answer. */
const twilioTimeoutMs = 15_000;
/** When the test ends the hang if the app has not answered (after Twilio's 15 s, so a late answer is seen as late). */
const hangEndsAfterMs = 17_000;

describe.skipIf(!postgresUp || !redisUp)('a write in flight when PostgreSQL hangs (PostgreSQL behind a proxy, Redis)', () => {
  let app: TestApp;
  let client: OnboardedClient;

  beforeAll(async () => {
    ({ app, client } = await startProxiedAppWithClient({ label: 'writehang', redis: true, businessName: 'Steady Plumbing' }));
  }, 120_000);
  beforeEach(() => app.storage.proxy!.restore());
  afterAll(async () => {
    app?.storage.proxy?.cut();
    await app?.close();
  });

  /** Sends the SMS with the proxy set to hang once `statement` has left; ends the hang after the answer (or after Twilio's 15 s). */
  async function smsAsDatabaseHangs(
    input: { from: string; to: string; body: string; messageSid: string },
    statement: (sql: string) => boolean,
  ): Promise<HttpReply> {
    const proxy = app.storage.proxy!;
    proxy.hangAfter((chunk) => statement(chunk.toString('latin1')));
    const hangEnds = setTimeout(() => proxy.restore(), hangEndsAfterMs);
    try {
      return await app.sms(input);
    } finally {
      clearTimeout(hangEnds);
      proxy.restore(); // resets the hung connections: the write in flight fails on our side
    }
  }

  /** Whether the webhook gave up on a write that had claimed the TwiML answer (not one still waiting for a connection). */
  function spooledWithWriteInFlight(sid: string): boolean {
    return app.logs.find('inbound SMS spooled for later processing').some((r) => r['messageSid'] === sid && r['writeInFlight'] === true);
  }

  /** The bodies of the SMS `to` got once the app recovered (sent once: a second copy shows). */
  const repliesTo = async (to: string) => (await smsAfterRecovery(app, to)).map((m) => m.body);

  it('the hot-path write reaches PostgreSQL and commits, its answer never comes: the holding text within 15 s, the reply once by SMS', async () => {
    const owner = phone();
    const sid = messageSid();
    // A new owner's first text to the system number: one statement (`sms_guess_new_owner`)
    // claims the TwiML answer, writes the client row and the inbox row, and commits on its own.
    const reply = await smsAsDatabaseHangs({ from: owner, to: app.systemNumber, body: 'Hi', messageSid: sid }, (sql) => sql.includes('sms_guess_'));
    expect(reply.status).toBe(200);
    expect(reply.messages).toEqual([texts.holding]);
    expect(reply.elapsedMs).toBeLessThan(twilioTimeoutMs);
    expect(spooledWithWriteInFlight(sid)).toBe(true);
    // The write had committed with its reply marked as the TwiML answer, which nobody got:
    // the reply goes through the outbox instead, once.
    expect(await repliesTo(owner)).toEqual([texts.welcome]);
    const row = await app.ctx.db.prisma.inboundEvent.findUniqueOrThrow({ where: { messageSid: sid } });
    expect(row).toMatchObject({ status: 'processed', replyVia: 'outbox', reply: texts.welcome });
    expect(await app.ctx.spool.size()).toBe(0);
  }, 90_000);

  it('the transaction’s inbox write reaches PostgreSQL, its COMMIT never does: the holding text within 15 s, the reply once by SMS', async () => {
    const customer = phone();
    const sid = messageSid();
    // A customer's text to a client's number takes the full path: one Prisma transaction
    // claims the TwiML answer, inserts the inbox row, then commits. The hang comes between.
    const reply = await smsAsDatabaseHangs({ from: customer, to: client.number, body: 'Boiler making a noise', messageSid: sid }, (sql) =>
      sql.includes('INSERT INTO "inbound_events"'),
    );
    expect(reply.status).toBe(200);
    expect(reply.messages).toEqual([texts.holding]);
    expect(reply.elapsedMs).toBeLessThan(twilioTimeoutMs);
    expect(spooledWithWriteInFlight(sid)).toBe(true);
    // The transaction rolled back when its connection was reset: the event is processed again
    // from our side (the `failed` row's retry, the spooled copy) and replies through the outbox.
    expect(await repliesTo(customer)).toEqual([texts.customerAck('Steady Plumbing')]);
    const row = await app.ctx.db.prisma.inboundEvent.findUniqueOrThrow({ where: { messageSid: sid } });
    expect(row).toMatchObject({ status: 'processed', replyVia: 'outbox' });
    expect(await app.ctx.spool.size()).toBe(0);
  }, 90_000);
});
