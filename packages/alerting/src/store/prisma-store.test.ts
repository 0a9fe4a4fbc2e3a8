// The shipped model snippet, the SQL migration and the store's raw SQL must agree: the
// generated client (from the snippet) reads and writes every model on a database migrated
// with the SQL, and sees what the store wrote.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePostgres } from '@hardening/test-support';
import { openPglite, openPostgres, type TestDatabase } from '../../test/support/databases.js';
import { createPrismaAlertStore } from './prisma-store.js';

const postgresUp = await requirePostgres();

for (const kind of ['postgres', 'pglite'] as const) {
  describe.skipIf(kind === 'postgres' && !postgresUp)(`Prisma models and migration in step (${kind})`, () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = kind === 'postgres' ? await openPostgres('alert_models') : await openPglite();
    });
    afterAll(() => db?.close());

    it('every model is written and read through the generated client', async () => {
      const at = new Date('2026-03-01T00:00:00.000Z');
      await db.prisma.alertLog.create({
        data: {
          id: 'a1',
          alertType: 'T',
          alertKey: 'k',
          alertId: 'a1',
          severity: 'HIGH',
          title: 't',
          payload: { id: 'a1' },
          firstSeenAt: at,
          lastSeenAt: at,
          claimedAt: at,
          expiresAt: at,
          sinks: ['sms'],
        },
      });
      const history = await db.prisma.alertHistory.create({
        data: { alertId: 'a1', alertType: 'T', alertKey: 'k', severity: 'HIGH', outcome: 'delivered', sinks: ['sms'], createdAt: at },
      });
      await db.prisma.alertDelivery.create({
        data: { deliveryId: 'SM1', alertId: 'a1', alertType: 'T', alertKey: 'k', sink: 'sms', status: 'pending', payload: {}, sentAt: at, deadlineAt: at },
      });
      expect(typeof history.id).toBe('bigint');
      expect(await db.prisma.alertLog.findUnique({ where: { alertType_alertKey: { alertType: 'T', alertKey: 'k' } } })).toMatchObject({
        occurrences: 1,
        sinks: ['sms'],
        resolvedAt: null,
      });
      expect(await db.prisma.alertDelivery.count()).toBe(1);
      await expect(
        db.prisma.alertLog.create({
          data: {
            id: 'a2',
            alertType: 'T',
            alertKey: 'k',
            alertId: 'a2',
            severity: 'HIGH',
            title: 't',
            payload: {},
            firstSeenAt: at,
            lastSeenAt: at,
            claimedAt: at,
            expiresAt: at,
          },
        }),
      ).rejects.toMatchObject({ code: 'P2002' });
    });

    it('what the store writes reads back through the models', async () => {
      const store = createPrismaAlertStore({ prisma: db.prisma });
      const now = Date.parse('2026-03-02T10:00:00.000Z');
      await store.claim({
        alertId: 'b1',
        type: 'OPENAI_FAILURE',
        key: '*',
        resourceId: undefined,
        severity: 'MEDIUM',
        title: 'OpenAI failing',
        payload: JSON.stringify({ id: 'b1' }),
        now,
        windowMs: 60_000,
      });
      await store.markDelivered({ type: 'OPENAI_FAILURE', key: '*', alertId: 'b1', at: now + 5, sinks: ['slack', 'log'] });
      await store.append({
        alertId: 'b1',
        type: 'OPENAI_FAILURE',
        key: '*',
        resourceId: undefined,
        severity: 'MEDIUM',
        outcome: 'delivered',
        sinks: ['slack'],
        detail: 'x',
        at: now,
      });
      const row = await db.prisma.alertLog.findUnique({ where: { alertType_alertKey: { alertType: 'OPENAI_FAILURE', alertKey: '*' } } });
      expect(row).toMatchObject({
        alertId: 'b1',
        severity: 'MEDIUM',
        title: 'OpenAI failing',
        payload: { id: 'b1' },
        sinks: ['slack', 'log'],
        resourceId: null,
        occurrences: 1,
      });
      expect(row!.firstSeenAt.toISOString()).toBe('2026-03-02T10:00:00.000Z');
      expect(row!.expiresAt.toISOString()).toBe('2026-03-02T10:01:00.000Z');
      expect(row!.deliveredAt!.toISOString()).toBe('2026-03-02T10:00:00.005Z');
      const history = await db.prisma.alertHistory.findMany({ where: { alertId: 'b1' } });
      expect(history).toMatchObject([{ outcome: 'delivered', sinks: ['slack'], detail: 'x' }]);
    });

    // PGlite runs in the default schema here: the option is for PostgreSQL set-ups.
    if (kind === 'postgres')
      it('qualifies the tables with `schema` when given', async () => {
        const store = createPrismaAlertStore({ prisma: db.prisma, schema: db.schema });
        const claim = await store.claim({
          alertId: 'c1',
          type: 'SCHEMA_TEST',
          key: 'k',
          resourceId: 'k',
          severity: 'LOW',
          title: 't',
          payload: '{}',
          now: Date.now(),
          windowMs: 1000,
        });
        expect(claim.claimed).toBe(true);
        expect(await db.prisma.alertLog.count({ where: { alertType: 'SCHEMA_TEST' } })).toBe(1);
      });

    it('rejects a client that is not Prisma, and a schema that is not an identifier', () => {
      expect(() => createPrismaAlertStore({ prisma: {} as never })).toThrow(/PrismaClient/);
      expect(() => createPrismaAlertStore({ prisma: db.prisma, schema: 'x; drop table' })).toThrow(/identifier/);
    });
  });
}
