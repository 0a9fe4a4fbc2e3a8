// Acceptance rule: no invisible alert suppression. An alert held back (a repeat within
// the suppression window, alerts disabled) is not sent again, but it is in the alert
// history, the stats the admin API serves, and the metrics.
import { eventually, requirePostgres, requireRedis } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { texts } from '../../src/domain/messages.js';
import { counterValue } from './support/metrics.js';
import { phone } from './support/phones.js';
import { adminPhone, startTestApp, type TestApp } from './support/test-app.js';

const postgresUp = await requirePostgres();
const redisUp = await requireRedis();

/** An owner who reaches the number step while the pool is empty, then texts again. */
async function ownerWaitingForANumber(app: TestApp): Promise<string> {
  const owner = phone();
  for (const body of ['Hi', 'Patient Plumbing', 'We serve Springfield']) await app.sms({ from: owner, to: app.systemNumber, body });
  return owner;
}

describe.skipIf(!postgresUp)('no invisible alert suppression: alert history in the database (PostgreSQL)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ spec: { backend: 'postgres', redis: false }, label: 'suppress' });
  });
  afterAll(async () => app?.close());

  it('a repeated alert is sent once; the repeat is suppressed and shows in the history, the stats and the metrics', async () => {
    const owner = await ownerWaitingForANumber(app);
    await eventually(() => app.smsTo(adminPhone).length === 1, 5000);
    // The owner asks again while still waiting: the same POOL_EMPTY alert for the same client.
    const again = await app.sms({ from: owner, to: app.systemNumber, body: 'Any news?' });
    expect(again.messages).toEqual([texts.poolEmpty]);
    await eventually(async () => ((await app.ctx.alerts.getAlertStats({ hours: 1 })).byType.POOL_EMPTY?.suppressed ?? 0) === 1, 5000);

    expect(app.smsTo(adminPhone)).toHaveLength(1);
    expect(app.providers.slack.messages.filter((m) => JSON.stringify(m.args).includes('Number pool is empty'))).toHaveLength(1);
    const stats = await app.ctx.alerts.getAlertStats({ hours: 1 });
    expect(stats.byType.POOL_EMPTY).toMatchObject({ delivered: 1, suppressed: 1 });
    expect(stats.suppressed).toBeGreaterThanOrEqual(1);
    const history = await app.ctx.db.prisma.alertHistory.findMany({ where: { alertType: 'POOL_EMPTY' }, orderBy: { id: 'asc' } });
    expect(history.map((h) => h.outcome).sort()).toEqual(['delivered', 'suppressed']);
    expect(await counterValue(app.ctx.metrics.alerts, { outcome: 'suppressed' })).toBe(1);
    // The dedup claim counts the occurrences.
    expect((await app.ctx.db.prisma.alertLog.findFirstOrThrow({ where: { alertType: 'POOL_EMPTY' } })).occurrences).toBe(2);
  });
});

describe.skipIf(!postgresUp || !redisUp)(
  'no invisible alert suppression: alert history kept through a database outage (Redis claims, PostgreSQL history)',
  () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({ spec: { backend: 'postgres', redis: true }, storageOptions: { databaseProxy: true }, label: 'suppressredis' });
    });
    afterAll(async () => app?.close());

    it('three SMS spooled during one outage: one DATABASE_UNAVAILABLE alert; its two suppressed repeats are counted once the database answers again', async () => {
      app.storage.proxy!.cut();
      try {
        for (let i = 0; i < 3; i++) {
          const reply = await app.sms({ from: phone(), to: app.systemNumber, body: `hello ${i}` });
          expect(reply.messages).toEqual([texts.holding]);
        }
        expect(await app.ctx.spool.size()).toBe(3);
        await eventually(() => app.smsTo(adminPhone).some((m) => /database unavailable/i.test(m.body)), 5000);
        // PostgreSQL owns the alert history (durable store): its rows wait in memory, and say so.
        await eventually(() => app.ctx.alerts.getAlertSystemStatus().history.queued >= 3, 5000);
        expect(app.ctx.alerts.getAlertSystemStatus().problems.join('\n')).toMatch(/history row\(s\) kept in memory/);
      } finally {
        app.storage.proxy!.restore();
      }
      // One page, however many SMS met the outage.
      expect(app.smsTo(adminPhone).filter((m) => /database unavailable/i.test(m.body))).toHaveLength(1);
      // Once the database answers (the durable store's breaker may still be cooling down), the
      // kept rows are written: the maintenance round retries them without waiting for the backoff.
      const counted = async () => {
        await app.ctx.alerts.runMaintenance();
        return (await app.ctx.alerts.getAlertStats({ hours: 1 }).catch(() => undefined))?.byType.DATABASE_UNAVAILABLE;
      };
      await eventually(async () => (await counted())?.suppressed === 2, 45_000, 500);
      expect(await counted()).toMatchObject({ delivered: 1, suppressed: 2 });
      expect(app.ctx.alerts.getAlertSystemStatus().history).toMatchObject({ queued: 0, dropped: 0 });
      const rows = await app.ctx.db.prisma.alertHistory.findMany({ where: { alertType: 'DATABASE_UNAVAILABLE' } });
      expect(rows.map((r) => r.outcome).sort()).toEqual(['delivered', 'suppressed', 'suppressed']);
    }, 90_000);
  },
);

describe.skipIf(!postgresUp)('no invisible alert suppression: ALERTS_DISABLED', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ spec: { backend: 'postgres', redis: false }, label: 'disabled', env: { ALERTS_DISABLED: 'true' } });
  });
  afterAll(async () => app?.close());

  it('alerts are not sent, but each is recorded as disabled and the alert system reports itself disabled', async () => {
    await ownerWaitingForANumber(app);
    await eventually(async () => ((await app.ctx.alerts.getAlertStats({ hours: 1 })).byType.POOL_EMPTY?.disabled ?? 0) === 1, 5000);
    expect(app.smsTo(adminPhone)).toEqual([]);
    expect(app.providers.slack.messages).toEqual([]);
    expect(app.ctx.alerts.getAlertSystemStatus()).toMatchObject({ enabled: false, reason: 'ALERTS_DISABLED=true' });
    expect(await counterValue(app.ctx.metrics.alerts, { outcome: 'disabled' })).toBe(1);
  });
});
