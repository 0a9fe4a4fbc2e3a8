// The scheduler as main.ts starts it, on the embedded database: the outbox loop sending
// through the real Twilio SDK with status callbacks at PUBLIC_BASE_URL, the sweep draining
// the spool every 30 s, retention at 04:00 UTC, start-up invariants. (One instance per round
// across instances: scheduler-lock.test.ts.)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startFakeTwilio, type FakeTwilio } from '@hardening/test-support';
import { loadConfig } from '../../src/config/config.js';
import { buildContext, type BuiltContext } from '../../src/context.js';
import { enqueueSms } from '../../src/domain/outbox.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { messageSid, systemNumber } from '../support/sms.js';
import { captureLogger } from './support/logs.js';
import { VirtualTime } from './support/virtual-time.js';

const day = 24 * 3_600_000;

describe('scheduler on the embedded database', () => {
  let dir: string;
  let fake: FakeTwilio;
  let built: BuiltContext;
  const logger = captureLogger();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scheduler-'));
    fake = await startFakeTwilio();
    const config = loadConfig({
      PGLITE_DATA_DIR: 'memory://',
      LOG_LEVEL: 'silent',
      TWILIO_ACCOUNT_SID: fake.accountSid,
      TWILIO_AUTH_TOKEN: fake.authToken,
      TWILIO_API_BASE_URL: fake.url,
      PUBLIC_BASE_URL: 'https://assistant.example.test/',
    });
    built = await buildContext(config, { logger, spoolFile: join(dir, 'inbox-spool.jsonl') });
  });
  afterAll(async () => {
    await built?.close();
    await fake?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends the outbox on its own, with status callbacks at PUBLIC_BASE_URL, and stops when told', async () => {
    const scheduler = new Scheduler(built.ctx);
    try {
      expect(await scheduler.start()).toEqual([]);
      expect(scheduler.lockKind).toBe('none');
      const id = await enqueueSms(built.ctx.db.prisma, {
        to: '+15553330001',
        from: '+15559990101',
        body: 'Sorry we missed your call!',
        purpose: 'missed_call',
      });
      // Generous: a busy machine (load ~20) took more than 10 s for the first outbox round.
      await eventually(() => fake.messages.length === 1, 30_000);
      expect(fake.messages[0]).toMatchObject({
        to: '+15553330001',
        body: 'Sorry we missed your call!',
        statusCallback: `https://assistant.example.test/api/twilio/message-status?outboxId=${id}`,
      });
      await eventually(async () => (await built.ctx.db.prisma.outboundMessage.findUniqueOrThrow({ where: { id } })).status === 'sent');
      expect(await built.ctx.metrics.registry.getSingleMetricAsString('hardening_app_outbox_messages_total')).toMatch(
        /^hardening_app_outbox_messages_total\{outcome="sent"\} 1$/m,
      );

      await scheduler.stop();
      const after = await enqueueSms(built.ctx.db.prisma, { to: '+15553330002', from: '+15559990101', body: 'after stop', purpose: 'reply' });
      await new Promise((resolve) => setTimeout(resolve, 2000)); // more than an outbox interval
      expect(fake.messages).toHaveLength(1);
      await built.ctx.db.prisma.outboundMessage.delete({ where: { id: after } });
    } finally {
      await scheduler.stop();
    }
  });

  it('on a simulated clock: outbox rounds every 1.5 s, the spool drained by the 30 s sweep, invariants checked at start', async () => {
    const db = built.ctx.db.prisma;
    await db.poolNumber.create({ data: { phoneNumber: '+15559990777', status: 'ASSIGNED' } }); // no client: a violation
    const time = new VirtualTime(Date.parse('2026-03-01T09:00:00Z'));
    const scheduler = new Scheduler(built.ctx, { clock: time, timers: time, random: () => 0.5 });
    const run = (ms: number) => time.advance(ms, () => scheduler.settled());
    try {
      const violations = await scheduler.start();
      expect(violations.map((v) => v.invariant)).toEqual(['assigned numbers have a client']);
      const orphan = await db.poolNumber.findFirstOrThrow({ where: { phoneNumber: '+15559990777' } });
      expect(
        logger.lines.some(
          (l) => l.level === 'error' && l.msg === `INVARIANT VIOLATION: assigned numbers have a client: 1 ASSIGNED number(s) without a client: ${orphan.id}`,
        ),
      ).toBe(true);

      const id = await enqueueSms(db, { to: '+15553330003', from: '+15559990101', body: 'hi', purpose: 'reply' });
      await run(1400);
      expect((await db.outboundMessage.findUniqueOrThrow({ where: { id } })).status).toBe('pending');
      await run(200);
      expect((await db.outboundMessage.findUniqueOrThrow({ where: { id } })).status).toBe('sent');
      expect(fake.messages.filter((m) => m.to === '+15553330003')).toHaveLength(1);

      const sid = messageSid();
      await built.ctx.spool.put({
        provider: 'twilio_sms',
        receivedAt: new Date().toISOString(),
        payload: { MessageSid: sid, From: '+15552226001', To: systemNumber, Body: 'hello' },
      });
      await run(28_000); // 29.6 s in
      expect(await built.ctx.spool.size()).toBe(1);
      await run(1000);
      expect(await built.ctx.spool.size()).toBe(0);
      expect(await db.inboundEvent.count({ where: { messageSid: sid } })).toBe(1);
    } finally {
      await scheduler.stop();
      await db.poolNumber.deleteMany({ where: { phoneNumber: '+15559990777' } });
    }
  });

  it('on a simulated clock: retention runs daily at 04:00 UTC', async () => {
    const db = built.ctx.db.prisma;
    const runsBefore = logger.lines.filter((l) => l.msg === 'retention: old rows deleted').length;
    const time = new VirtualTime(Date.parse('2026-03-01T03:58:00Z'));
    // Slow loops: this test is about the daily run.
    const scheduler = new Scheduler(built.ctx, {
      clock: time,
      timers: time,
      random: () => 0.5,
      outboxIntervalMs: 3_600_000,
      sweepIntervalMs: 3_600_000,
      receiptCheckIntervalMs: 3_600_000,
      monitor: { intervalMs: 3_600_000 },
    });
    const run = (ms: number) => time.advance(ms, () => scheduler.settled());
    let seq = 0;
    const oldDelivery = () =>
      db.webhookDelivery.create({
        data: {
          provider: 'twilio',
          eventId: `E${++seq}`,
          kind: 'process_inbound',
          status: 'completed',
          payload: {},
          createdAt: new Date(time.now() - 8 * day),
        },
      });
    try {
      await scheduler.start();
      const first = await oldDelivery();
      await run(119_000); // 03:59:59
      expect(await db.webhookDelivery.count({ where: { id: first.id } })).toBe(1);
      await run(2000); // 04:00:01
      expect(await db.webhookDelivery.count({ where: { id: first.id } })).toBe(0);
      expect(logger.lines.filter((l) => l.msg === 'retention: old rows deleted')).toHaveLength(runsBefore + 1);

      const second = await oldDelivery();
      await run(day - 10_000); // 03:59:51 the next day
      expect(await db.webhookDelivery.count({ where: { id: second.id } })).toBe(1);
      await run(20_000);
      expect(await db.webhookDelivery.count({ where: { id: second.id } })).toBe(0);
      expect(logger.lines.filter((l) => l.msg === 'retention: old rows deleted')).toHaveLength(runsBefore + 2);
    } finally {
      await scheduler.stop();
    }
  });
});
