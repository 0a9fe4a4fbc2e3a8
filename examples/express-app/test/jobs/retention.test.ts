// Retention deletes only what is finished and past its retention, on PGlite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@hardening/core';
import { createPrismaStore } from '@hardening/idempotency';
import { requirePostgres } from '@hardening/test-support';
import type { Database } from '../../src/db/database.js';
import { nextDailyRunAt, runRetention } from '../../src/jobs/retention.js';
import { freshDatabase, type Backend } from '../support/databases.js';

const pgUp = await requirePostgres();
const backends: Backend[] = pgUp ? ['pglite', 'postgres'] : ['pglite'];
const day = 24 * 3_600_000;

describe('nextDailyRunAt', () => {
  it('is the next 04:00 UTC', () => {
    expect(new Date(nextDailyRunAt(Date.parse('2026-03-01T03:59:59.999Z'), 4)).toISOString()).toBe('2026-03-01T04:00:00.000Z');
    expect(new Date(nextDailyRunAt(Date.parse('2026-03-01T04:00:00.000Z'), 4)).toISOString()).toBe('2026-03-02T04:00:00.000Z');
    expect(new Date(nextDailyRunAt(Date.parse('2026-03-01T23:30:00.000Z'), 4)).toISOString()).toBe('2026-03-02T04:00:00.000Z');
    expect(new Date(nextDailyRunAt(Date.parse('2026-12-31T05:00:00.000Z'), 4)).toISOString()).toBe('2027-01-01T04:00:00.000Z');
  });
});

describe.each(backends)('retention on %s', (backend) => {
  let db: Database;
  beforeAll(async () => {
    db = await freshDatabase(backend, 'retention');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('deletes only old, finished rows (in batches), and expired idempotency records', async () => {
    const now = Date.now();
    const ago = (days: number) => new Date(now - days * day);
    let seq = 0;
    const delivery = (status: string, days: number) =>
      db.prisma.webhookDelivery.create({
        data: { provider: 'twilio', eventId: `E${++seq}`, kind: 'process_inbound', status, payload: {}, createdAt: ago(days) },
      });
    const inbound = (status: string, days: number) =>
      db.prisma.inboundEvent.create({ data: { messageSid: `SM${++seq}`, payload: {}, status, createdAt: ago(days) } });
    const outbound = (status: string, days: number) =>
      db.prisma.outboundMessage.create({
        data: { toPhone: '+15553330001', fromPhone: '+15550000000', body: 'x', purpose: 'reply', status, createdAt: ago(days) },
      });
    const signal = (status: string, days: number) =>
      db.prisma.slackSignal.create({ data: { eventId: `Ev${++seq}`, channel: 'C1', text: 'x', status, createdAt: ago(days) } });

    const gone = [
      ...(await Promise.all([delivery('completed', 8), delivery('completed', 9), delivery('dead_letter', 8), delivery('completed', 30)])).map((r) => r.id),
      ...(await Promise.all([inbound('processed', 8), inbound('processed', 10), inbound('dead_letter', 31)])).map((r) => r.id),
      ...(
        await Promise.all([outbound('sent', 31), outbound('delivered', 40), outbound('undelivered', 31), outbound('not_sent', 31), outbound('dead_letter', 31)])
      ).map((r) => r.id),
      ...(await Promise.all([signal('evaluated', 31), signal('timed_out', 31)])).map((r) => r.id),
    ];
    const kept = [
      // recent enough
      ...(await Promise.all([delivery('completed', 6), delivery('dead_letter', 6)])).map((r) => r.id),
      ...(await Promise.all([inbound('processed', 6), inbound('dead_letter', 29)])).map((r) => r.id),
      ...(await Promise.all([outbound('sent', 29), outbound('dead_letter', 29)])).map((r) => r.id),
      (await signal('evaluated', 29)).id,
      // old but unfinished: never deleted
      ...(await Promise.all([delivery('pending', 20), delivery('failed', 20), delivery('processing', 20)])).map((r) => r.id),
      ...(await Promise.all([inbound('received', 20), inbound('failed', 20)])).map((r) => r.id),
      ...(await Promise.all([outbound('pending', 60), outbound('unknown', 60), outbound('failed', 60), outbound('sending', 60)])).map((r) => r.id),
      (await signal('stored', 60)).id,
    ];
    await db.prisma.idempotencyRecord.createMany({
      data: [
        { key: 'twilio:sms:SMold', status: 'completed', token: 't1', expiresAt: new Date(now - 60_000) },
        { key: 'twilio:sms:SMnew', status: 'completed', token: 't2', expiresAt: new Date(now + 3_600_000) },
      ],
    });

    const report = await runRetention(
      { db: db.prisma, idempotencyStore: createPrismaStore({ prisma: db.prisma }), logger: silentLogger, now: () => now },
      { batchSize: 2 },
    );
    expect(report).toEqual({ idempotencyRecords: 1, webhookDeliveries: 4, inboundEvents: 3, outboundMessages: 5, slackSignals: 2 });

    const remaining = new Set(
      (
        await Promise.all([
          db.prisma.webhookDelivery.findMany({ select: { id: true } }),
          db.prisma.inboundEvent.findMany({ select: { id: true } }),
          db.prisma.outboundMessage.findMany({ select: { id: true } }),
          db.prisma.slackSignal.findMany({ select: { id: true } }),
        ])
      )
        .flat()
        .map((r) => r.id),
    );
    for (const id of gone) expect(remaining.has(id)).toBe(false);
    for (const id of kept) expect(remaining.has(id)).toBe(true);
    expect((await db.prisma.idempotencyRecord.findMany({ select: { key: true } })).map((r) => r.key)).toEqual(['twilio:sms:SMnew']);

    // Nothing more to do a second time.
    expect(await runRetention({ db: db.prisma, idempotencyStore: createPrismaStore({ prisma: db.prisma }), logger: silentLogger, now: () => now })).toEqual({
      idempotencyRecords: 0,
      webhookDeliveries: 0,
      inboundEvents: 0,
      outboundMessages: 0,
      slackSignals: 0,
    });
  });
});
