// The sweep with the app's real context and job runner (in-process queue), on PGlite and
// PostgreSQL: abandoned inbox rows and lost jobs are queued again and processed, fresh work
// is left to its own retry, and the inbox spool is drained into the database.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, requirePostgres, type TestDatabase } from '@hardening/test-support';
import { loadConfig } from '../../src/config/config.js';
import { buildContext, type BuiltContext } from '../../src/context.js';
import { recordInbound } from '../../src/domain/inbound.js';
import { startJobRunner } from '../../src/jobs/job-runner.js';
import { sweepOnce } from '../../src/jobs/sweep.js';
import { messageSid, systemNumber } from '../support/sms.js';
import { captureLogger } from './support/logs.js';
import { migratedPostgresDatabase, type Backend } from '../support/databases.js';

const pgUp = await requirePostgres();
const backends: Backend[] = pgUp ? ['pglite', 'postgres'] : ['pglite'];
const minute = 60_000;
// The job runner processes on its own schedule; under load (2 shared cores) that took over the
// 5 s default. A wait, not a speed check: a job that never completes still fails here.
const settles = 20_000;

describe.each(backends)('sweep on %s', (backend) => {
  let built: BuiltContext;
  let dir: string;
  let pg: TestDatabase | undefined;
  const logger = captureLogger();
  let ownerSeq = 0;
  const owner = () => `+1555222${String(5000 + ++ownerSeq)}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sweep-'));
    pg = backend === 'postgres' ? await migratedPostgresDatabase('sweep') : undefined;
    const config = loadConfig({ PGLITE_DATA_DIR: 'memory://', LOG_LEVEL: 'silent', ...(pg === undefined ? {} : { DATABASE_URL: pg.url }) });
    built = await buildContext(config, { logger, spoolFile: join(dir, 'inbox-spool.jsonl') });
    startJobRunner(built.ctx);
  });
  afterAll(async () => {
    await built?.close();
    await pg?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const db = () => built.ctx.db.prisma;

  /** An inbound SMS to the system number, recorded and left in `status`, `ageMs` old. */
  async function inboxRow(status: 'received' | 'failed', ageMs: number) {
    const from = owner();
    const sms = { messageSid: messageSid(), from, to: systemNumber, body: 'hello' };
    const row = await recordInbound(db(), sms, { MessageSid: sms.messageSid, From: from, To: systemNumber, Body: 'hello' });
    await db().inboundEvent.update({ where: { id: row.id }, data: { status, createdAt: new Date(Date.now() - ageMs) } });
    return { ...row, sms };
  }

  const statusOf = async (id: string) => (await db().inboundEvent.findUniqueOrThrow({ where: { id } })).status;

  it('queues an abandoned failed (and received) inbox row, which then gets processed and its reply queued', async () => {
    expect(built.ctx.extractor.name).toBe('deterministic'); // no OPENAI_API_KEY
    const failed = await inboxRow('failed', 5 * minute);
    const received = await inboxRow('received', 5 * minute);
    const fresh = await inboxRow('failed', 10_000); // its own retry may still be on its way

    const report = await sweepOnce(built.ctx);
    expect(report).toMatchObject({ inboxQueued: 2, deliveriesRequeued: 0 });
    const deliveryOf = (sid: string) =>
      db().webhookDelivery.findUnique({ where: { provider_eventId_kind: { provider: 'twilio', eventId: sid, kind: 'process_inbound' } } });
    // Each job marks its delivery row after the inbox row, in a write of its own: wait for both.
    await eventually(
      async () =>
        (await statusOf(failed.id)) === 'processed' &&
        (await statusOf(received.id)) === 'processed' &&
        (await deliveryOf(failed.sms.messageSid))?.status === 'completed' &&
        (await deliveryOf(received.sms.messageSid))?.status === 'completed',
      settles,
    );
    expect(await statusOf(fresh.id)).toBe('failed');
    // The welcome reply went to the outbox (the webhook's TwiML answer was long gone).
    expect(await db().outboundMessage.count({ where: { toPhone: failed.sms.from, purpose: 'onboarding' } })).toBe(1);

    // Swept again: nothing left to do, nothing processed twice.
    expect(await sweepOnce(built.ctx)).toMatchObject({ inboxQueued: 0, deliveriesRequeued: 0 });
    expect(await db().outboundMessage.count({ where: { toPhone: failed.sms.from } })).toBe(1);
  });

  it('queues again a delivery left processing or failed for too long (its job was lost), not a recent one', async () => {
    const lost = await inboxRow('failed', 10 * minute);
    const recent = await inboxRow('failed', 10 * minute);
    const lostDelivery = await db().webhookDelivery.create({
      data: { provider: 'twilio', eventId: lost.sms.messageSid, kind: 'process_inbound', status: 'processing', attempts: 1, payload: { inboxId: lost.id } },
    });
    const recentDelivery = await db().webhookDelivery.create({
      data: { provider: 'twilio', eventId: recent.sms.messageSid, kind: 'process_inbound', status: 'failed', attempts: 1, payload: { inboxId: recent.id } },
    });
    await db().$executeRaw`UPDATE "webhook_deliveries" SET "updated_at" = ${new Date(Date.now() - 5 * minute)} WHERE "id" = ${lostDelivery.id}`;
    await db().$executeRaw`UPDATE "webhook_deliveries" SET "updated_at" = ${new Date(Date.now() - 30_000)} WHERE "id" = ${recentDelivery.id}`;

    expect(await sweepOnce(built.ctx)).toMatchObject({ inboxQueued: 0, deliveriesRequeued: 1 });
    await eventually(
      async () =>
        (await statusOf(lost.id)) === 'processed' && (await db().webhookDelivery.findUniqueOrThrow({ where: { id: lostDelivery.id } })).status === 'completed',
      settles,
    );
    expect((await db().webhookDelivery.findUniqueOrThrow({ where: { id: recentDelivery.id } })).status).toBe('failed');
    expect(await statusOf(recent.id)).toBe('failed');
  });

  it('drains the spool: a spooled SMS becomes an inbox row and is processed, a Slack event a stored signal; a malformed one is set aside (dead letter)', async () => {
    const from = owner();
    const sid = messageSid();
    const { spool } = built.ctx;
    await spool.put({
      provider: 'twilio_sms',
      receivedAt: new Date().toISOString(),
      payload: { MessageSid: sid, From: from, To: systemNumber, Body: 'hi there', AccountSid: 'AC123' },
    });
    await spool.put({
      provider: 'slack',
      receivedAt: new Date().toISOString(),
      payload: {
        type: 'event_callback',
        event_id: 'EvSWEEP1',
        event: { type: 'message', channel: 'C0JOBS', user: 'U1', text: 'a pipe burst at the depot', ts: '1700000000.000100' },
      },
    });
    await spool.put({ provider: 'twilio_sms', receivedAt: new Date().toISOString(), payload: { MessageSid: 'SMbroken' } });
    expect(await spool.size()).toBe(3);

    expect(await sweepOnce(built.ctx)).toMatchObject({ spoolDrained: 2 });
    expect(await spool.size()).toBe(0);
    const inbox = await db().inboundEvent.findUniqueOrThrow({ where: { messageSid: sid } });
    await eventually(async () => (await statusOf(inbox.id)) === 'processed', settles);
    expect(await db().outboundMessage.count({ where: { toPhone: from, purpose: 'onboarding' } })).toBe(1);
    await eventually(async () => (await db().slackSignal.findUnique({ where: { eventId: 'EvSWEEP1' } }))?.status === 'evaluated', settles);
    expect(await db().inboundEvent.count({ where: { messageSid: 'SMbroken' } })).toBe(0);
    expect(await spool.deadLetters()).toMatchObject([{ payload: { MessageSid: 'SMbroken' }, attempts: 1, reason: expect.stringContaining('malformed') }]);
    expect(logger.lines.some((l) => l.level === 'error' && l.msg === 'inbox spool: an event that keeps failing was set aside')).toBe(true);

    // The same SMS spooled twice (a Twilio retry during the outage) is processed once.
    await spool.put({
      provider: 'twilio_sms',
      receivedAt: new Date().toISOString(),
      payload: { MessageSid: sid, From: from, To: systemNumber, Body: 'hi there' },
    });
    expect(await sweepOnce(built.ctx)).toMatchObject({ spoolDrained: 1, inboxQueued: 0 });
    expect(await db().outboundMessage.count({ where: { toPhone: from } })).toBe(1);
  });

  it('drains an SMS spooled while its write was in flight: the write committed, so its reply goes through the outbox once; a row of another write is left alone', async () => {
    const { spool } = built.ctx;
    // The webhook answered the holding text while this write, which had claimed the TwiML
    // answer, was on the wire; the write committed (its answer lost) and nobody moved its reply.
    const committed = async (id: string) => {
      const sms = { messageSid: messageSid(), from: owner(), to: systemNumber, body: 'hi' };
      const payload = { MessageSid: sms.messageSid, From: sms.from, To: sms.to, Body: sms.body };
      await db().inboundEvent.create({
        data: { id, messageSid: sms.messageSid, payload, status: 'processed', attempts: 1, reply: 'Welcome!', replyVia: 'twiml' },
      });
      return { id, sms, payload };
    };
    const spoolIt = (payload: Record<string, string>, inboxId: string) =>
      spool.put({ provider: 'twilio_sms', receivedAt: new Date().toISOString(), payload, inFlightWrite: { inboxId, purpose: 'onboarding' } });
    const late = await committed(randomUUID());
    const other = await committed(randomUUID());
    await spoolIt(late.payload, late.id);
    await spoolIt(late.payload, late.id); // twice (Redis and the file): both copies drained
    // Another delivery's row (this one's write rolled back): its answer stands.
    await spoolIt(other.payload, randomUUID());

    expect(await sweepOnce(built.ctx)).toMatchObject({ spoolDrained: 3 });
    const moved = await db().inboundEvent.findUniqueOrThrow({ where: { messageSid: late.sms.messageSid } });
    expect(moved).toMatchObject({ status: 'processed', replyVia: 'outbox' });
    expect(await db().outboundMessage.findMany({ where: { toPhone: late.sms.from }, select: { body: true, purpose: true, sendKey: true } })).toEqual([
      { body: 'Welcome!', purpose: 'onboarding', sendKey: `inline_reply:${late.sms.messageSid}` },
    ]);
    expect(await db().inboundEvent.findUniqueOrThrow({ where: { messageSid: other.sms.messageSid } })).toMatchObject({ replyVia: 'twiml' });
    expect(await db().outboundMessage.count({ where: { toPhone: other.sms.from } })).toBe(0);
  });
});
