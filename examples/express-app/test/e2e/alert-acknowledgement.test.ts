// The operator acknowledges an alert: by replying "ACK <code>" to the alert SMS from
// ALERT_SMS_TO (through the app's signed inbound SMS webhook), or through the admin API.
// The acknowledgement is in the alert status, the alert history in the database, and a
// second acknowledgement reports the first. PostgreSQL alone, and PostgreSQL under Redis.
import { eventually, requirePostgres, requireRedis } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phone } from './support/phones.js';
import { adminPhone, startTestApp, type TestApp } from './support/test-app.js';

const postgresUp = await requirePostgres();
const redisUp = await requireRedis();

for (const redis of [false, true]) {
  describe.skipIf(!postgresUp || (redis && !redisUp))(`alert acknowledgement (PostgreSQL${redis ? ' + Redis' : ''})`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({ spec: { backend: 'postgres', redis }, label: redis ? 'ackredis' : 'ack' });
    });
    afterAll(async () => app?.close());

    it('"ACK <code>" from the operator acknowledges the alert the SMS named; the admin API then reports it acknowledged; unknown codes are 404', async () => {
      const owner = phone();
      for (const body of ['Hi', 'Patient Plumbing', 'We serve Springfield']) await app.sms({ from: owner, to: app.systemNumber, body });
      await eventually(() => app.smsTo(adminPhone).some((m) => /pool is empty/i.test(m.body)), 30_000);
      const alertSms = app.smsTo(adminPhone).find((m) => /pool is empty/i.test(m.body))!;
      const code = /Reply ACK ([A-Z0-9]{5})$/.exec(alertSms.body)?.[1];
      expect(code, alertSms.body).toBeDefined();

      await app.sms({ from: adminPhone, to: app.systemNumber, body: `ack ${code}` });
      await eventually(() => app.ctx.alerts.getAlertSystemStatus().acknowledged.some((ack) => ack.code === code), 30_000);
      const ack = app.ctx.alerts.getAlertSystemStatus().acknowledged.find((a) => a.code === code)!;
      expect(ack).toMatchObject({ type: 'POOL_EMPTY', via: 'sms' });
      expect(ack.by).not.toContain(adminPhone.slice(-7)); // masked
      await eventually(async () => (await app.ctx.db.prisma.alertHistory.count({ where: { alertType: 'POOL_EMPTY', outcome: 'acknowledged' } })) === 1, 30_000);

      const again = await app.admin('POST', `/api/admin/alerts/${code}/ack`, { by: 'alice' });
      expect(again.status).toBe(200);
      expect(JSON.parse(again.body)).toMatchObject({ status: 'already_acknowledged', type: 'POOL_EMPTY', via: 'sms' });

      const unknown = await app.admin('POST', '/api/admin/alerts/ZZZZZ/ack', {});
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect((await app.admin('POST', '/api/admin/alerts/not-an-id!/ack', {})).status).toBe(400);
    });

    it('POST /api/admin/alerts/:id/ack acknowledges an open alert by its id', async () => {
      const result = await app.ctx.alerts.sendCriticalAlert({
        type: 'ACK_PROBE',
        severity: 'HIGH',
        resourceId: `probe-${redis}`,
        title: 'Probe',
        message: 'for the admin API',
      });
      expect(result.status).toBe('delivered');
      const reply = await app.admin('POST', `/api/admin/alerts/${result.alertId}/ack`, { by: 'bob' });
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.body)).toMatchObject({ status: 'acknowledged', alertId: result.alertId, by: 'bob', via: 'admin-api' });
    });
  });
}
