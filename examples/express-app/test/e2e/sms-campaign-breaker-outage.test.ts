// Issue 14's chaos scenario "carrier blocks the sender", its app defect, from the outside:
// at a load average of 25-28 the database failed under the voice route, and the missed-call
// fail-safe (which texts the caller at once when the database cannot be read) sent from the
// halted number anyway: 13 requests from it reached Twilio during the block where only
// probes may go, and the carrier refused each. Sent without a status callback, those
// refusals never came back, so 12 callers were never texted. Now a number known halted
// (as this instance last read the shared halt, even one another instance wrote) sends
// nothing from the fail-safe; the call is spooled, queued in the outbox once the database
// is back, held by the halt, and texted once after it.
import { eventually, requirePostgres, type RecordedRequest } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { texts } from '../../src/domain/messages.js';
import { sweepOnce } from '../../src/jobs/sweep.js';
import { onboardClient, type OnboardedClient } from './support/flows.js';
import { levels } from './support/log-capture.js';
import { callSid, phone } from './support/phones.js';
import { adminPhone, startTestApp, type TestApp } from './support/test-app.js';

const postgresUp = await requirePostgres();

describe.skipIf(!postgresUp)('campaign breaker through a database outage: two instances, PostgreSQL behind a proxy', () => {
  // `a` takes Twilio's status callbacks (and halts the sender); `b` takes the missed calls.
  let a: TestApp;
  let b: TestApp;
  let blocked: OnboardedClient;
  let open: OnboardedClient;
  const deliverability = { spikeThreshold: 3, probeAfterMs: 60_000, probeIntervalMs: 60_000 };

  beforeAll(async () => {
    a = await startTestApp({
      spec: { backend: 'postgres', redis: false },
      storageOptions: { databaseProxy: true },
      label: 'halt-outage-a',
      overrides: { deliverability },
    });
    await a.addPoolNumbers(2);
    blocked = await onboardClient(a, { businessName: 'Blocked Boilers' });
    open = await onboardClient(a, { businessName: 'Open Ovens' });
    b = await startTestApp({
      storage: a.storage,
      providers: a.providers,
      publicBaseUrl: a.publicBaseUrl,
      label: 'halt-outage-b',
      overrides: { deliverability },
    });
  }, 90_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const postsFrom = (from: string) =>
    a.providers.twilio.requests.filter(
      (r: RecordedRequest) => r.method === 'POST' && r.path.endsWith('/Messages.json') && (r.body as Record<string, string>).From === from,
    );
  const delivered = (to: string) => a.smsTo(to).filter((m) => m.status !== 'failed' && m.status !== 'undelivered');
  const halted = async (sender: string) => (await a.ctx.db.prisma.smsSenderHalt.findFirst({ where: { fromPhone: sender, active: true } })) !== null;
  /** What `b`'s jobs do once the database is back: the sweep drains its spool (after its breaker's probe). */
  const recover = () =>
    eventually(
      async () => {
        try {
          await sweepOnce(b.ctx);
          return true;
        } catch {
          return false;
        }
      },
      30_000,
      250,
    );

  it('the database down while a sender is halted (by another instance): its fail-safe sends nothing, the call is texted once after the halt; another sender is texted at once', async () => {
    const sender = blocked.number;
    // The carrier blocks the sender's campaign: 30034 halts at the first refusal (a status callback to `a`).
    a.providers.twilio.blockSender(sender, { code: 30034, status: 'failed' });
    const first = phone();
    expect((await a.callStatus({ callSid: callSid(), from: first, to: sender, status: 'no-answer' })).status).toBe(200);
    expect(await a.drainOutbox()).toMatchObject({ sent: 1 });
    await eventually(() => halted(sender), 10_000);
    // `b` never sent from that number: it knows of the halt from its outbox round's read.
    await b.drainOutbox();
    expect(b.ctx.deliverability.halts.isHalted(sender)).toBe(true);
    const postsBefore = postsFrom(sender).length;

    const caller = phone();
    const other = phone();
    a.storage.proxy!.cut();
    let answers;
    try {
      answers = [
        await b.callStatus({ callSid: callSid(), from: caller, to: sender, status: 'no-answer' }),
        await b.callStatus({ callSid: callSid(), from: other, to: open.number, status: 'no-answer' }),
      ];
    } finally {
      a.storage.proxy!.restore();
    }
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    // Nothing from the halted number reached Twilio; the sender that works texted its caller at once.
    expect(postsFrom(sender)).toHaveLength(postsBefore);
    expect(a.smsTo(caller)).toEqual([]);
    expect(a.smsTo(other).map((m) => [m.from, m.body])).toEqual([[open.number, texts.missedCall('Open Ovens')]]);
    expect(b.logs.find(/fail-safe SMS not sent: the number called is halted/, levels.warn)).toHaveLength(1);

    // The database is back: the spooled call is queued in the outbox and held by the halt.
    await recover();
    expect(await b.drainOutbox()).toMatchObject({ sent: 0 });
    const row = await a.ctx.db.prisma.outboundMessage.findFirstOrThrow({ where: { toPhone: caller } });
    expect(row).toMatchObject({ fromPhone: sender, purpose: 'missed_call', status: 'pending', lastError: expect.stringMatching(/^sender halted/) });
    expect(postsFrom(sender)).toHaveLength(postsBefore);

    // The block clears and an operator resumes the sender: both callers get one text each.
    a.providers.twilio.unblockSender(sender);
    expect((await a.admin('POST', `/api/admin/senders/${encodeURIComponent(sender)}/resume`)).status).toBe(200);
    expect(await b.drainOutbox()).toMatchObject({ sent: 2 });
    expect(delivered(caller).map((m) => [m.from, m.body])).toEqual([[sender, texts.missedCall('Blocked Boilers')]]);
    expect(delivered(first)).toHaveLength(1);
    expect(delivered(other)).toHaveLength(1);
    await eventually(() => a.smsTo(adminPhone).some((m) => /halted/i.test(m.body)), 10_000);
    expect(a.smsTo(adminPhone).filter((m) => /halted/i.test(m.body))).toHaveLength(1);
    // `b` learns of the resume at its next read too (a fail-safe then texts from the number again).
    await eventually(
      async () => {
        await b.drainOutbox();
        return b.ctx.deliverability.halts.isHalted(sender) === false;
      },
      15_000,
      500,
    );
  }, 120_000);
});
