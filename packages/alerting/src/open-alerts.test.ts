// The read API on each shipped store: memory, and the real Redis and PostgreSQL.
import { afterEach, describe, expect, it } from 'vitest';
import { requirePostgres, requireRedis } from '@hardening/test-support';
import { ackCode } from './acknowledgements/ack-code.js';
import { createAlertService } from './alert-service.js';
import type { AlertMessage, AlertSink } from './index.js';
import { captureLogger } from '../test/support/capture-logger.js';
import { recordingSink } from '../test/support/recording-sink.js';
import { openSharedStore } from '../test/support/shared-store.js';
import { createMemoryAlertStore } from './store/memory-store.js';
import type { AlertStore } from './store/alert-store.js';

const up = { memory: true, redis: await requireRedis(), postgres: await requirePostgres() };

const minute = 60_000;

/** An SMS sink whose messages await a delivery receipt (as the Twilio sink's do). */
function receiptSink(name: string): AlertSink & { down: boolean } {
  let seq = 0;
  return {
    name,
    down: false,
    send(this: { down: boolean }, _message: AlertMessage) {
      if (this.down) return Promise.reject(Object.assign(new Error('Twilio answered 400'), { status: 400 }));
      const sid = `SM${String(++seq).padStart(32, '0')}`;
      return Promise.resolve({ ids: [sid], awaitingConfirmation: [sid] });
    },
  };
}

function setup(store: AlertStore) {
  let now = Date.parse('2026-03-01T02:00:00Z');
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const sms = receiptSink('sms');
  const slack = recordingSink('slack');
  const alerts = createAlertService({
    sinks: [sms, slack],
    store,
    clock,
    logger: captureLogger(),
    maintenanceIntervalMs: false,
    pendingAlertAfterMs: false,
    retry: { attempts: 1, initialDelayMs: 1, timeoutMs: 1000, breaker: false },
    env: {},
  });
  return { alerts, sms, slack, clock };
}

const refused = () => Object.assign(new Error('channel_not_found'), { status: 404 });

for (const kind of ['memory', 'redis', 'postgres'] as const) {
  describe.skipIf(!up[kind])(`open and recent alerts (${kind} store)`, () => {
    const closers: Array<() => Promise<void>> = [];
    afterEach(async () => {
      await Promise.all(closers.splice(0).map((close) => close()));
    });
    /** A store of this test's own (its Redis prefix or PostgreSQL schema). */
    async function openStore(): Promise<AlertStore> {
      if (kind === 'memory') return createMemoryAlertStore();
      const shared = await openSharedStore(kind, 'open-alerts');
      closers.push(() => shared.close());
      return shared.store;
    }

    describe('listOpenAlerts', () => {
      it('lists delivered, unacknowledged alerts with code and sinks, and pages no sink took; acknowledging or resolving takes them off', async () => {
        const { alerts, sms, slack, clock } = setup(await openStore());
        const db = await alerts.sendCriticalAlert({ type: 'DB_DOWN', severity: 'HIGH', resourceId: 'db1', title: 'Database down', message: 'ECONNREFUSED' });
        clock.advance(minute);
        slack.failWith(refused());
        sms.down = true;
        const slow = await alerts.sendCriticalAlert({ type: 'SLOW_API', severity: 'MEDIUM', resourceId: 'api', title: 'API slow <b>', message: 'p99 9 s' });
        expect([db.status, slow.status]).toEqual(['delivered', 'failed']);

        const open = await alerts.listOpenAlerts();
        expect(open).toEqual([
          expect.objectContaining({
            alertId: slow.alertId,
            type: 'SLOW_API',
            state: 'pending',
            code: ackCode('SLOW_API', 'api'),
            title: 'API slow <b>',
            deliveredAt: undefined,
            pendingSince: '2026-03-01T02:01:00.000Z',
            sinks: [],
            acknowledgeable: true,
          }),
          expect.objectContaining({
            alertId: db.alertId,
            type: 'DB_DOWN',
            severity: 'HIGH',
            resourceId: 'db1',
            state: 'delivered',
            code: ackCode('DB_DOWN', 'db1'),
            deliveredAt: '2026-03-01T02:00:00.000Z',
            sinks: ['sms', 'slack'],
          }),
        ]);
        expect(open[0]!.lastFailure).toContain('channel_not_found');

        // The pending page is acknowledged from its row, by its code.
        expect((await alerts.acknowledge(open[0]!.code, { by: 'alice', via: 'console' })).status).toBe('acknowledged');
        expect((await alerts.listOpenAlerts()).map((a) => a.type)).toEqual(['DB_DOWN']);
        await alerts.resolveAlert({ type: 'DB_DOWN', resourceId: 'db1' });
        expect(await alerts.listOpenAlerts()).toEqual([]);
        await alerts.close();
      });
    });

    describe('recentAlerts', () => {
      it('gathers each alert with its outcome per sink: failure reasons, SMS receipts, resolution; newest first', async () => {
        const { alerts, sms, slack, clock } = setup(await openStore());
        const db = await alerts.sendCriticalAlert({ type: 'DB_DOWN', severity: 'HIGH', resourceId: 'db1', title: 'Database down', message: 'x' });
        await alerts.sendCriticalAlert({ type: 'DB_DOWN', severity: 'HIGH', resourceId: 'db1', title: 'Database down', message: 'again' });
        clock.advance(minute);
        expect(await alerts.handleDeliveryStatus({ deliveryId: `SM${'1'.padStart(32, '0')}`, status: 'delivered' })).not.toBe('unknown');
        clock.advance(minute);
        slack.failWith(refused());
        sms.down = true;
        const slow = await alerts.sendCriticalAlert({ type: 'SLOW_API', severity: 'MEDIUM', resourceId: 'api', title: 'API slow', message: 'p99 9 s' });
        clock.advance(minute);
        await alerts.resolveAlert({ type: 'DB_DOWN', resourceId: 'db1' });

        const recent = await alerts.recentAlerts({ hours: 1 });
        expect(recent.map((a) => [a.type, a.outcome])).toEqual([
          ['DB_DOWN', 'resolved'],
          ['SLOW_API', 'failed'],
        ]);
        const [dbAlert, slowAlert] = recent;
        expect(dbAlert).toMatchObject({ alertId: db.alertId, firstAt: '2026-03-01T02:00:00.000Z', lastAt: '2026-03-01T02:03:00.000Z' });
        expect(dbAlert!.sinks).toEqual([
          { sink: 'sms', outcome: 'confirmed', detail: `sms SM${'1'.padStart(32, '0')} delivered`, at: '2026-03-01T02:01:00.000Z' },
          { sink: 'slack', outcome: 'delivered', detail: undefined, at: '2026-03-01T02:00:00.000Z' },
        ]);
        expect(dbAlert!.events.map((e) => e.outcome)).toEqual(['delivered', 'confirmed', 'resolved']);
        // Each sink gets its own part of the failure detail.
        expect(slowAlert).toMatchObject({
          alertId: slow.alertId,
          sinks: [
            { sink: 'slack', outcome: 'failed', detail: 'slack: HTTP 404: channel_not_found' },
            { sink: 'sms', outcome: 'failed', detail: 'sms: HTTP 400: Twilio answered 400' },
          ],
        });

        // The suppressed duplicate is its own row, listed only when asked for; the limit counts alerts.
        const all = await alerts.recentAlerts({ hours: 1, includeSuppressed: true });
        expect(all.map((a) => a.outcome)).toEqual(['resolved', 'failed', 'suppressed']);
        expect((await alerts.recentAlerts({ limit: 1 })).map((a) => a.type)).toEqual(['DB_DOWN']);
        await alerts.close();
      });

      it('refuses a bad limit or period with a TypeError', async () => {
        const { alerts } = setup(await openStore());
        await expect(alerts.recentAlerts({ limit: 0 })).rejects.toThrow(TypeError);
        await expect(alerts.recentAlerts({ limit: 2.5 })).rejects.toThrow(/whole number from 1 to 500/);
        await expect(alerts.recentAlerts({ hours: -1 })).rejects.toThrow(/`hours`/);
        await expect(alerts.recentAlerts({ hours: Number.NaN })).rejects.toThrow(TypeError);
        await alerts.close();
      });
    });
  });
}
