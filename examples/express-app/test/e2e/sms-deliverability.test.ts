// Issue 14, from the outside: what Twilio answers (REST errors, status callbacks) decides
// whom a sender texts again. HTTP in (missed calls, inbound texts, status callbacks, the
// admin API), fake Twilio's recorded requests and the database out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '@hardening/test-support';
import { texts } from '../../src/domain/messages.js';
import { onboardClient, type OnboardedClient } from './support/flows.js';
import { counterValue } from './support/metrics.js';
import { callSid, phone } from './support/phones.js';
import { startTestApp, type TestApp } from './support/test-app.js';

describe('SMS deliverability: suppression, opt-out, status machine (PGlite)', () => {
  let app: TestApp;
  let client: OnboardedClient;

  beforeAll(async () => {
    app = await startTestApp({ label: 'deliver' });
    await app.addPoolNumbers(1);
    client = await onboardClient(app, { businessName: 'Rapid Rooter' });
  });
  afterAll(async () => app?.close());

  const sendsTo = (to: string) => (request: RecordedRequest) =>
    request.method === 'POST' && request.path.endsWith('/Messages.json') && (request.body as Record<string, string>).To === to;
  const postsTo = (to: string) => app.providers.twilio.requests.filter(sendsTo(to));
  const missedCall = async (caller: string) => {
    expect((await app.callStatus({ callSid: callSid(), from: caller, to: client.number, status: 'no-answer' })).status).toBe(200);
  };
  const lastRow = (to: string) => app.ctx.db.prisma.outboundMessage.findFirstOrThrow({ where: { toPhone: to }, orderBy: { createdAt: 'desc' } });
  const adminJson = async (method: string, path: string) => {
    const reply = await app.admin(method, path);
    return { status: reply.status, body: reply.body === '' ? undefined : (JSON.parse(reply.body) as { items: Array<Record<string, unknown>> }) };
  };

  it('a terminal recipient code suppresses the pair: the next send is refused before Twilio, counted, listed; the recipient texting in clears it', async () => {
    const caller = phone();
    app.providers.twilio.failWithCode(21614, { times: 1 });
    await missedCall(caller);
    // This one is lost (and alerted, as before); the next ones are spared the call.
    expect(await app.drainOutbox()).toMatchObject({ sent: 0, deadLettered: 1 });
    expect(await lastRow(caller)).toMatchObject({ status: 'dead_letter' });
    expect(postsTo(caller)).toHaveLength(1);

    await missedCall(caller);
    expect(await app.drainOutbox()).toMatchObject({ sent: 0, withheld: 1 });
    expect(postsTo(caller)).toHaveLength(1); // refused before calling Twilio
    expect(await counterValue(app.ctx.metrics.smsRefused, { reason: 'suppressed' })).toBeGreaterThanOrEqual(1);

    const listed = await adminJson('GET', '/api/admin/suppressions');
    const mine = listed.body!.items.find((i) => i.sender === client.number && i.errorCode === 21614)!;
    expect(mine).toMatchObject({ refusedSends: 1 });
    expect(JSON.stringify(listed.body)).not.toContain(caller);

    // The recipient texts the business: their number works.
    expect((await app.sms({ from: caller, to: client.number, body: 'Can you come tomorrow?' })).status).toBe(200);
    expect(await app.ctx.db.prisma.smsSuppression.count({ where: { fromPhone: client.number, toPhone: caller } })).toBe(0);
    await missedCall(caller);
    expect(await app.drainOutbox()).toMatchObject({ sent: 1 });
    expect(postsTo(caller).map((r) => r.status)).toEqual([400, 201]);
  });

  it('a terminal code in a status callback suppresses the pair; an operator clears it in the admin API', async () => {
    const caller = phone();
    await missedCall(caller);
    await app.drainOutbox();
    const sent = app.smsTo(caller)[0]!;
    expect((await app.providers.twilio.sendStatus(sent.sid, 'undelivered', { errorCode: 30006 })).status).toBe(200);
    const row = await app.ctx.db.prisma.smsSuppression.findFirstOrThrow({ where: { fromPhone: client.number, toPhone: caller } });
    expect(row).toMatchObject({ errorCode: 30006 });
    await missedCall(caller);
    expect(await app.drainOutbox()).toMatchObject({ withheld: 1, sent: 0 });

    expect((await adminJson('DELETE', `/api/admin/suppressions/${row.id}`)).status).toBe(204);
    expect((await adminJson('DELETE', `/api/admin/suppressions/${row.id}`)).status).toBe(404);
    expect((await app.admin('DELETE', '/api/admin/suppressions/not-a-uuid')).headers.get('content-type')).toMatch(/problem\+json/);
    await missedCall(caller);
    expect(await app.drainOutbox()).toMatchObject({ sent: 1 });
    expect(app.smsTo(caller)).toHaveLength(2);
  });

  it('30003 (handset off) is sent again once, later; a second 30003 is final, counted and alerted LOW', async () => {
    const caller = phone();
    await missedCall(caller);
    await app.drainOutbox();
    await app.providers.twilio.sendStatus(app.smsTo(caller)[0]!.sid, 'undelivered', { errorCode: 30003 });
    const waiting = await lastRow(caller);
    expect(waiting).toMatchObject({ status: 'pending', twilioSid: null });
    expect(waiting.nextAttemptAt.getTime()).toBeGreaterThan(Date.now() + 60_000); // not at once: the handset is off
    expect(await app.drainOutbox()).toMatchObject({ sent: 0 });
    await app.ctx.db.prisma.outboundMessage.update({ where: { id: waiting.id }, data: { nextAttemptAt: new Date() } }); // ten minutes later
    expect(await app.drainOutbox()).toMatchObject({ sent: 1 });
    await app.providers.twilio.sendStatus(app.smsTo(caller)[1]!.sid, 'undelivered', { errorCode: 30003 });
    expect(await lastRow(caller)).toMatchObject({ status: 'undelivered', deliveryStatus: 'undelivered', errorCode: 30003, attempts: 2 });
    expect(postsTo(caller)).toHaveLength(2);
    expect(await app.drainOutbox()).toMatchObject({ sent: 0 });
    expect(app.logs.find(/SMS was not delivered|SMS_UNDELIVERED/).filter((l) => JSON.stringify(l).includes(waiting.id)).length).toBeGreaterThanOrEqual(1);
  });

  it('STOP opts the pair out (audited), the confirmation is the last text; START resubscribes; HELP is answered', async () => {
    const caller = phone();
    const stop = await app.sms({ from: caller, to: client.number, body: 'Stop' });
    expect(stop.messages).toEqual([texts.optedOut]);
    await missedCall(caller);
    expect(await app.drainOutbox()).toMatchObject({ withheld: 1, sent: 0 });
    expect(postsTo(caller)).toHaveLength(0);
    expect(await lastRow(caller)).toMatchObject({ status: 'opted_out' });

    // Per pair: another business's number may still text them.
    expect(await app.ctx.db.prisma.smsOptOut.count({ where: { toPhone: caller, optedOut: true } })).toBe(1);

    expect((await app.sms({ from: caller, to: client.number, body: 'HELP' })).messages).toEqual([texts.help]);
    expect((await app.sms({ from: caller, to: client.number, body: 'unstop' })).messages).toEqual([texts.optedIn]);
    await missedCall(caller);
    expect(await app.drainOutbox()).toMatchObject({ sent: 1 });

    const events = await app.ctx.db.prisma.smsOptOutEvent.findMany({ where: { toPhone: caller }, orderBy: { createdAt: 'asc' } });
    expect(events.map((e) => [e.action, e.source])).toEqual([
      ['opt_out', 'keyword'],
      ['help', 'keyword'],
      ['opt_in', 'keyword'],
    ]);
    const audit = await adminJson('GET', '/api/admin/opt-outs/events');
    expect(audit.status).toBe(200);
    expect(JSON.stringify(audit.body)).not.toContain(caller);
  });

  it('21610 from Twilio is an opt-out, not an alert: recorded, the message closed, no page', async () => {
    const caller = phone();
    app.providers.twilio.failWithCode(21610, { times: 1 });
    await missedCall(caller);
    expect(await app.drainOutbox()).toMatchObject({ withheld: 1, deadLettered: 0 });
    expect(await lastRow(caller)).toMatchObject({ status: 'opted_out' });
    const pairs = await adminJson('GET', '/api/admin/opt-outs');
    expect(pairs.body!.items.some((i) => i.sender === client.number)).toBe(true);
    expect(await app.ctx.db.prisma.smsOptOutEvent.findFirstOrThrow({ where: { toPhone: caller } })).toMatchObject({
      action: 'opt_out',
      source: 'twilio_21610',
    });
    const closed = await lastRow(caller);
    expect(app.logs.find(/MESSAGE LOST/).filter((l) => JSON.stringify(l).includes(closed.id))).toHaveLength(0);
    await missedCall(caller);
    expect(await app.drainOutbox()).toMatchObject({ withheld: 1 });
    expect(postsTo(caller)).toHaveLength(1);
  });

  it('fail-closed: when the opt-out state cannot be read, a non-essential text waits and an essential one goes', async () => {
    const caller = phone();
    await missedCall(caller); // missed_call: not essential
    const essential = await app.ctx.db.prisma.outboundMessage.create({
      data: { toPhone: phone(), fromPhone: client.number, body: 'Your job is booked.', purpose: 'reply' },
    });
    // A real failure of the read: the table is gone for a moment (no mock).
    await app.ctx.db.prisma.$executeRawUnsafe('ALTER TABLE "sms_opt_outs" RENAME TO "sms_opt_outs_away"');
    try {
      expect(await app.drainOutbox()).toMatchObject({ held: 1, sent: 1 });
    } finally {
      await app.ctx.db.prisma.$executeRawUnsafe('ALTER TABLE "sms_opt_outs_away" RENAME TO "sms_opt_outs"');
    }
    expect(postsTo(caller)).toHaveLength(0);
    expect(await lastRow(caller)).toMatchObject({ status: 'pending', lastError: expect.stringMatching(/fail-closed/) });
    expect(await app.ctx.db.prisma.outboundMessage.findUniqueOrThrow({ where: { id: essential.id } })).toMatchObject({ status: 'sent' });
  });

  it('status callbacks out of order, duplicated, and split by segments: forward-only, final kept, merged, counted once', async () => {
    const caller = phone();
    await missedCall(caller);
    await app.drainOutbox();
    const sid = app.smsTo(caller)[0]!.sid;
    const delivered = () => counterValue(app.ctx.metrics.smsDeliveries, { status: 'delivered' });
    const before = await delivered();
    await app.providers.twilio.sendStatus(sid, 'delivered');
    await app.providers.twilio.sendStatus(sid, 'sent', { replay: true }); // late
    await app.providers.twilio.sendStatus(sid, 'delivered', { replay: true }); // duplicate (new idempotency token)
    await app.providers.twilio.sendStatus(sid, 'queued', { replay: true });
    expect(await lastRow(caller)).toMatchObject({ status: 'delivered', deliveryStatus: 'delivered' });
    expect((await delivered()) - before).toBe(1);
    expect(await app.ctx.db.prisma.smsStatusEvent.count({ where: { messageSid: sid } })).toBe(3);

    // A second segment failed: a success and a failure of one message merge.
    await app.providers.twilio.sendStatus(sid, 'undelivered', { errorCode: 30008, replay: true });
    expect(await lastRow(caller)).toMatchObject({ deliveryStatus: 'partially_delivered', errorCode: 30008 });
    expect((await delivered()) - before).toBe(1);

    const metrics = await app.admin('GET', '/metrics');
    expect(metrics.body).toMatch(/^hardening_app_sms_deliveries_total\{status="delivered",error_class="none"\} \d+/m);
  });
});
