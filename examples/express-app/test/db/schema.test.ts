// Every model of prisma/schema.prisma works on a freshly migrated database, on PGlite and
// on PostgreSQL: the hand-written SQL and the schema have not drifted apart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePostgres } from '@hardening/test-support';
import { silentLogger } from '@hardening/core';
import type { Database } from '../../src/db/database.js';
import { migrate, pendingMigrations, readMigrations } from '../../src/db/migrator.js';
import { useMemoryTemplate } from '../../src/db/pglite-template.js';
import { freshDatabase, type Backend } from '../support/databases.js';

// This file checks the migrations themselves: its PGlite database goes through initdb and
// every migration, not the migrated template the other files start from.
useMemoryTemplate(undefined);

const pgUp = await requirePostgres();
const backends: Backend[] = pgUp ? ['pglite', 'postgres'] : ['pglite'];

describe.each(backends)('schema on %s', (backend) => {
  let db: Database;
  beforeAll(async () => {
    db = await freshDatabase(backend, 'schema');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('has applied every migration, and applying again changes nothing', async () => {
    const session = await db.session();
    try {
      expect(await pendingMigrations(session)).toEqual([]);
      expect(await migrate(session, silentLogger)).toEqual([]);
    } finally {
      await session.end();
    }
    expect(readMigrations().length).toBeGreaterThan(0);
  });

  it('every model: create, unique constraints, relations, update, delete', async () => {
    const { prisma } = db;
    const client = await prisma.client.create({ data: { phone: '+15550000001', businessName: 'Ace Plumbing' } });
    expect(client).toMatchObject({ onboardingState: 'S1_WELCOME', paymentActive: false, outboundPaused: false });
    await expect(prisma.client.create({ data: { phone: '+15550000001' } })).rejects.toMatchObject({ code: 'P2002' });

    const number = await prisma.poolNumber.create({ data: { phoneNumber: '+15559990001' } });
    await prisma.poolNumber.update({ where: { id: number.id }, data: { status: 'ASSIGNED', clientId: client.id, assignedAt: new Date() } });
    const withNumber = await prisma.client.findUniqueOrThrow({ where: { id: client.id }, include: { number: true } });
    expect(withNumber.number?.phoneNumber).toBe('+15559990001');
    await prisma.poolNumber.create({ data: { phoneNumber: '+15559990000', role: 'SYSTEM' } });

    const customer = await prisma.customer.create({ data: { clientId: client.id, phone: '+15551112222' } });
    await expect(prisma.customer.create({ data: { clientId: client.id, phone: '+15551112222' } })).rejects.toMatchObject({ code: 'P2002' });
    const conversation = await prisma.conversation.create({ data: { mode: 'OPERATIONAL', clientId: client.id, customerId: customer.id } });
    await prisma.message.create({ data: { conversationId: conversation.id, direction: 'INBOUND', body: 'hello', twilioSid: 'SM1' } });
    await expect(
      prisma.message.create({ data: { conversationId: conversation.id, direction: 'INBOUND', body: 'again', twilioSid: 'SM1' } }),
    ).rejects.toMatchObject({ code: 'P2002' });

    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(await prisma.inboundEvent.create({ data: { messageSid: 'SM1', payload: { Body: 'hello' }, traceparent } })).toMatchObject({ traceparent });
    await expect(prisma.inboundEvent.create({ data: { messageSid: 'SM1', payload: {} } })).rejects.toMatchObject({ code: 'P2002' });
    const outbound = await prisma.outboundMessage.create({
      data: { toPhone: '+15551112222', fromPhone: '+15559990001', body: 'hi', purpose: 'reply', traceparent },
    });
    expect(outbound.traceparent).toBe(traceparent);
    expect(outbound.status).toBe('pending');
    await prisma.webhookDelivery.create({ data: { provider: 'stripe', eventId: 'evt_1', kind: 'checkout', payload: { id: 'evt_1' } } });
    await expect(prisma.webhookDelivery.create({ data: { provider: 'stripe', eventId: 'evt_1', kind: 'checkout', payload: {} } })).rejects.toMatchObject({
      code: 'P2002',
    });
    await prisma.slackSignal.create({ data: { eventId: 'Ev1', channel: 'C1', text: 'urgent job', messageTs: '1700000000.000100' } });

    // The packages' tables, through the models the app's schema declares for them.
    const expiresAt = new Date(Date.now() + 86_400_000);
    await prisma.idempotencyRecord.create({ data: { key: 'webhook:twilio:sms:SM1', status: 'COMPLETED', token: 't1', result: '"<Response/>"', expiresAt } });
    await expect(
      prisma.idempotencyRecord.create({ data: { key: 'webhook:twilio:sms:SM1', status: 'IN_PROGRESS', token: 't2', expiresAt } }),
    ).rejects.toMatchObject({
      code: 'P2002',
    });
    const now = new Date();
    await prisma.alertLog.create({
      data: {
        id: 'al1',
        alertType: 'PAYMENT_BLOCK',
        alertKey: client.id,
        alertId: 'a1',
        severity: 'HIGH',
        title: 't',
        payload: {},
        firstSeenAt: now,
        lastSeenAt: now,
        claimedAt: now,
        expiresAt,
        sinks: ['sms'],
      },
    });
    await expect(
      prisma.alertLog.create({
        data: {
          id: 'al2',
          alertType: 'PAYMENT_BLOCK',
          alertKey: client.id,
          alertId: 'a2',
          severity: 'HIGH',
          title: 't',
          payload: {},
          firstSeenAt: now,
          lastSeenAt: now,
          claimedAt: now,
          expiresAt,
        },
      }),
    ).rejects.toMatchObject({ code: 'P2002' });
    await prisma.alertHistory.create({
      data: { alertId: 'a1', alertType: 'PAYMENT_BLOCK', alertKey: client.id, severity: 'HIGH', outcome: 'delivered', sinks: ['sms'], createdAt: now },
    });
    await prisma.alertDelivery.create({
      data: {
        deliveryId: 'SM9',
        alertId: 'a1',
        alertType: 'PAYMENT_BLOCK',
        alertKey: client.id,
        sink: 'sms',
        status: 'sent',
        payload: {},
        sentAt: now,
        deadlineAt: expiresAt,
      },
    });
    expect(await Promise.all([prisma.idempotencyRecord.count(), prisma.alertLog.count(), prisma.alertHistory.count(), prisma.alertDelivery.count()])).toEqual([
      1, 1, 1, 1,
    ]);

    // SMS deliverability (issue 14).
    await prisma.outboundMessage.update({ where: { id: outbound.id }, data: { deliveryStatus: 'undelivered', errorCode: 30006, deliveryUpdatedAt: now } });
    await prisma.smsStatusEvent.create({ data: { messageSid: 'SM1', status: 'sent' } });
    await expect(prisma.smsStatusEvent.create({ data: { messageSid: 'SM1', status: 'sent' } })).rejects.toMatchObject({ code: 'P2002' });
    await prisma.smsSuppression.create({ data: { fromPhone: '+15559990001', toPhone: '+15551112222', errorCode: 30006, reason: 'landline' } });
    await expect(
      prisma.smsSuppression.create({ data: { fromPhone: '+15559990001', toPhone: '+15551112222', errorCode: 21211, reason: 'x' } }),
    ).rejects.toMatchObject({ code: 'P2002' });
    await prisma.smsOptOut.create({ data: { fromPhone: '+15559990001', toPhone: '+15551112222', optedOut: true } });
    await expect(prisma.smsOptOut.create({ data: { fromPhone: '+15559990001', toPhone: '+15551112222', optedOut: false } })).rejects.toMatchObject({
      code: 'P2002',
    });
    await prisma.smsOptOutEvent.create({ data: { fromPhone: '+15559990001', toPhone: '+15551112222', action: 'opt_out', source: 'keyword' } });
    await prisma.smsSenderHalt.create({ data: { fromPhone: '+15559990001', errorCode: 30034, reason: 'unregistered', nextProbeAt: now } });
    expect(await prisma.smsSenderHalt.findUniqueOrThrow({ where: { fromPhone: '+15559990001' } })).toMatchObject({ active: true, probeOutboxId: null });
    expect(
      await Promise.all([
        prisma.smsStatusEvent.count(),
        prisma.smsSuppression.count(),
        prisma.smsOptOut.count(),
        prisma.smsOptOutEvent.count(),
        prisma.smsSenderHalt.count(),
      ]),
    ).toEqual([1, 1, 1, 1, 1]);

    const counts = await Promise.all([
      prisma.client.count(),
      prisma.poolNumber.count(),
      prisma.customer.count(),
      prisma.conversation.count(),
      prisma.message.count(),
      prisma.inboundEvent.count(),
      prisma.outboundMessage.count(),
      prisma.webhookDelivery.count(),
      prisma.slackSignal.count(),
    ]);
    expect(counts).toEqual([1, 2, 1, 1, 1, 1, 1, 1, 1]);

    await prisma.message.deleteMany({});
    await prisma.conversation.deleteMany({});
    expect(await prisma.conversation.count()).toBe(0);
  });
});
