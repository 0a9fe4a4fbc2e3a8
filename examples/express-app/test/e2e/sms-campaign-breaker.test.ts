// Issue 14, the sender-wide campaign breaker, from the outside: fake Twilio blocks a
// sender's campaign (every message accepted, then refused by the carrier with 30034 or
// 30007); the app halts that sender, pages once, holds its outbox, and resumes on an
// operator's clear or a probe that gets through. No message is sent twice during a block.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type RecordedRequest } from '@hardening/test-support';
import { onboardClient, type OnboardedClient } from './support/flows.js';
import { counterValue } from './support/metrics.js';
import { callSid, phone } from './support/phones.js';
import { adminPhone, startTestApp, type TestApp } from './support/test-app.js';

describe('campaign breaker: a sender halted by systemic carrier codes (PGlite)', () => {
  let app: TestApp;
  let first: OnboardedClient;
  let second: OnboardedClient;
  let third: OnboardedClient;

  beforeAll(async () => {
    // A minute before the first probe: the tests move the probe time instead of waiting.
    app = await startTestApp({ label: 'campaign', overrides: { deliverability: { spikeThreshold: 3, probeAfterMs: 60_000, probeIntervalMs: 60_000 } } });
    await app.addPoolNumbers(3);
    first = await onboardClient(app, { businessName: 'Blocked Boilers' });
    second = await onboardClient(app, { businessName: 'Filtered Floors' });
    third = await onboardClient(app, { businessName: 'Late Ladders' });
  });
  afterAll(async () => app?.close());

  const postsFrom = (from: string) =>
    app.providers.twilio.requests.filter(
      (r: RecordedRequest) => r.method === 'POST' && r.path.endsWith('/Messages.json') && (r.body as Record<string, string>).From === from,
    );
  const missedCall = async (to: string, caller = phone()) => {
    expect((await app.callStatus({ callSid: callSid(), from: caller, to, status: 'no-answer' })).status).toBe(200);
    return caller;
  };
  const halted = async (sender: string) => (await app.ctx.db.prisma.smsSenderHalt.findFirst({ where: { fromPhone: sender, active: true } })) !== null;
  const pages = () => app.smsTo(adminPhone).filter((m) => /halted/i.test(m.body));
  const rowsFrom = (sender: string) => app.ctx.db.prisma.outboundMessage.findMany({ where: { fromPhone: sender, purpose: 'missed_call' } });

  it('30034 (unregistered campaign): halted at the first, one page, queued SMS wait without reaching Twilio, all go out once an operator resumes', async () => {
    const sender = first.number;
    app.providers.twilio.blockSender(sender, { code: 30034, status: 'failed' });
    const callers = [await missedCall(sender)];
    expect(await app.drainOutbox()).toMatchObject({ sent: 1 });
    await eventually(() => halted(sender), 10_000);
    await eventually(() => pages().length === 1, 10_000);

    for (let i = 0; i < 4; i++) callers.push(await missedCall(sender));
    const postsBefore = postsFrom(sender).length;
    // The four new ones are held back; the refused one is queued again, due at the probe time.
    expect(await app.drainOutbox()).toMatchObject({ sent: 0, held: 4 });
    expect(postsFrom(sender)).toHaveLength(postsBefore);
    expect(await counterValue(app.ctx.metrics.smsRefused, { reason: 'halted' })).toBeGreaterThanOrEqual(4);

    const list = JSON.parse((await app.admin('GET', '/api/admin/senders/halted')).body) as { items: Array<Record<string, unknown>> };
    expect(list.items.find((i) => i.sender === sender)).toMatchObject({ errorCode: 30034, queued: 5 });
    // Another sender is not affected.
    const other = await missedCall(second.number);
    expect(await app.drainOutbox()).toMatchObject({ sent: 1 });
    expect(app.smsTo(other)).toHaveLength(1);

    // One recipient replies STOP while their text waits: it must never go out.
    const optedOut = callers.pop()!;
    expect((await app.sms({ from: optedOut, to: sender, body: 'STOP' })).status).toBe(200);

    app.providers.twilio.unblockSender(sender);
    expect((await app.admin('POST', `/api/admin/senders/${encodeURIComponent(sender)}/resume`)).status).toBe(200);
    expect((await app.admin('POST', `/api/admin/senders/${encodeURIComponent(sender)}/resume`)).status).toBe(404);
    expect((await app.admin('POST', '/api/admin/senders/12345/resume')).status).toBe(400);
    expect(await app.drainOutbox()).toMatchObject({ sent: 4, withheld: 1, held: 0 });
    for (const caller of callers) expect(app.smsTo(caller).filter((m) => m.status !== 'failed')).toHaveLength(1);
    expect(app.smsTo(optedOut).filter((m) => m.body.includes('missed your call'))).toHaveLength(0);
    expect((await rowsFrom(sender)).map((r) => r.status).sort()).toEqual(['opted_out', 'sent', 'sent', 'sent', 'sent']);
    expect(pages()).toHaveLength(1);
  });

  it('30007 (carrier filtering): one is a message, a spike halts; a failed probe keeps the halt, a delivered probe resumes', async () => {
    const sender = second.number;
    const pagesBefore = pages().length;
    app.providers.twilio.blockSender(sender, { code: 30007 });
    const callers: string[] = [];
    for (let i = 0; i < 2; i++) {
      callers.push(await missedCall(sender));
      await app.drainOutbox();
      await eventually(async () => (await rowsFrom(sender)).filter((r) => r.errorCode === 30007).length === i + 1, 10_000);
    }
    expect(await halted(sender)).toBe(false);
    callers.push(await missedCall(sender));
    await app.drainOutbox();
    await eventually(() => halted(sender), 10_000);
    await eventually(() => pages().length === pagesBefore + 1, 10_000);
    // The three refused by the carrier wait for the halt to end.
    expect((await rowsFrom(sender)).filter((r) => callers.includes(r.toPhone)).map((r) => r.status)).toEqual(['pending', 'pending', 'pending']);

    // Probe time, still blocked: one message goes, fails, the halt stays, no second page.
    // The probe time comes (the clock moved on): the halt's probe and the held messages are due.
    const probeDue = async () => {
      await app.ctx.db.prisma.smsSenderHalt.update({ where: { fromPhone: sender }, data: { nextProbeAt: new Date() } });
      await app.ctx.db.prisma.outboundMessage.updateMany({ where: { fromPhone: sender, status: 'pending' }, data: { nextAttemptAt: new Date() } });
    };
    await probeDue();
    let posts = postsFrom(sender).length;
    expect(await app.drainOutbox()).toMatchObject({ sent: 1, held: 2 });
    expect(postsFrom(sender)).toHaveLength(posts + 1);
    await eventually(async () => (await app.ctx.db.prisma.outboundMessage.count({ where: { fromPhone: sender, status: 'pending' } })) === 3, 10_000);
    expect(await halted(sender)).toBe(true);

    // The block clears; the next probe is delivered and resumes the sender.
    app.providers.twilio.unblockSender(sender);
    await probeDue();
    posts = postsFrom(sender).length;
    expect(await app.drainOutbox()).toMatchObject({ sent: 1, held: 2 });
    const probe = app.providers.twilio.messages.at(-1)!;
    expect(probe.from).toBe(sender);
    await app.providers.twilio.sendStatus(probe.sid, 'delivered');
    expect(await halted(sender)).toBe(false);
    expect(await app.drainOutbox()).toMatchObject({ sent: 2 });
    expect(postsFrom(sender)).toHaveLength(posts + 3);
    for (const caller of callers) expect(app.smsTo(caller).filter((m) => m.status !== 'undelivered')).toHaveLength(1);
    expect(pages()).toHaveLength(pagesBefore + 1);
  });

  it("after a resume, the late receipt of a text refused during the block sends it again, with no new halt or page; the block's refusals count toward no new spike", async () => {
    // The carrier's receipts come out of order: one refusal from the block arrives after the
    // sender was resumed. Counted with the block's other refusals (still in the spike window),
    // it halted the sender again and paged again, and the text itself was never sent again.
    const sender = third.number;
    const pagesBefore = pages().length;
    app.providers.twilio.blockSender(sender, { code: 30007, callback: false });
    const callers: string[] = [];
    for (let i = 0; i < 4; i++) callers.push(await missedCall(sender));
    expect(await app.drainOutbox()).toMatchObject({ sent: 4 });
    const refusedSms = callers.map((caller) => app.smsTo(caller)[0]!);
    // Three receipts arrive: the spike halts the sender and pages once; the fourth is late.
    for (const sms of refusedSms.slice(0, 3)) await app.providers.twilio.sendStatus(sms.sid, 'undelivered', { errorCode: 30007 });
    await eventually(() => halted(sender), 10_000);
    await eventually(() => pages().length === pagesBefore + 1, 10_000);

    app.providers.twilio.unblockSender(sender);
    expect((await app.admin('POST', `/api/admin/senders/${encodeURIComponent(sender)}/resume`)).status).toBe(200);
    expect(await app.drainOutbox()).toMatchObject({ sent: 3 });
    for (const caller of callers.slice(0, 3)) {
      const resent = app.smsTo(caller).at(-1)!;
      expect(resent.status).not.toBe('undelivered');
      await app.providers.twilio.sendStatus(resent.sid, 'delivered');
    }

    // The late refusal: the text goes out again, the sender stays resumed, no second page.
    const late = await app.providers.twilio.sendStatus(refusedSms[3]!.sid, 'undelivered', { errorCode: 30007 });
    expect(late.status).toBe(200);
    expect(await halted(sender)).toBe(false);
    expect(await app.drainOutbox()).toMatchObject({ sent: 1 });
    expect(app.smsTo(callers[3]!).filter((m) => m.status !== 'undelivered')).toHaveLength(1);

    // One 30007 now is about one message (the spike is counted from the resume): no halt.
    app.providers.twilio.blockSender(sender, { code: 30007 });
    await missedCall(sender);
    expect(await app.drainOutbox()).toMatchObject({ sent: 1 });
    await eventually(async () => (await rowsFrom(sender)).some((r) => r.errorCode === 30007 && r.deliveryStatus === 'undelivered'), 10_000);
    expect(await halted(sender)).toBe(false);
    app.providers.twilio.unblockSender(sender);
    // A page comes only with a halt (the one that halts pages): none, so still the one page.
    expect(pages()).toHaveLength(pagesBefore + 1);
  });
});
