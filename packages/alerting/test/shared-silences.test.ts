// Silences are shared and durable: created on one instance, they mute alerts on every
// instance on the store (same id), are listed everywhere, expire on their own, and end
// everywhere when ended on one. Real Redis and PostgreSQL.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requirePostgres, requireRedis } from '@hardening/test-support';
import { createAlertService, type AlertService, type AlertStore } from '../src/index.js';
import { captureLogger } from './support/capture-logger.js';
import { openSharedStore, type SharedStore } from './support/shared-store.js';
import { recordingSink } from './support/recording-sink.js';

const redisUp = await requireRedis();
const postgresUp = await requirePostgres();

for (const kind of ['redis', 'postgres'] as const) {
  describe.skipIf(kind === 'redis' ? !redisUp : !postgresUp)(`shared silences (${kind})`, () => {
    let shared: SharedStore;
    let store: AlertStore;
    let now = Date.parse('2026-03-01T03:00:00Z');
    const started: AlertService[] = [];

    beforeAll(async () => {
      shared = await openSharedStore(kind, 'alert-silences');
      store = shared.store;
    });
    afterAll(() => shared.close());
    afterEach(async () => {
      await Promise.all(started.splice(0).map((s) => s.close()));
    });

    function instance() {
      const slack = recordingSink('slack');
      const alerts = createAlertService({ sinks: [slack], store, clock: { now: () => now }, logger: captureLogger(), maintenanceIntervalMs: false, env: {} });
      started.push(alerts);
      return { alerts, slack };
    }
    const alert = (resourceId: string) => ({
      type: `NIGHTLY_SYNC_${kind.toUpperCase()}`,
      severity: 'HIGH' as const,
      resourceId,
      title: 'Nightly sync failed',
      message: 'see logs',
    });

    it('a silence made on one instance mutes the others (same id), is listed everywhere, and ends everywhere when ended on one', async () => {
      const a = instance();
      const b = instance();
      const silence = await a.alerts.createSilence(
        { type: alert('x').type, resourceId: ['client_s1'] },
        { durationMs: 3_600_000, reason: 'maintenance window' },
      );
      await b.alerts.runMaintenance();
      expect((await b.alerts.sendCriticalAlert(alert('client_s1'))).status).toBe('silenced');
      expect((await b.alerts.sendCriticalAlert(alert('client_s2'))).status).toBe('delivered');
      expect((await b.alerts.listSilences()).map((s) => s.id)).toContain(silence.id);
      expect(b.alerts.getAlertSystemStatus().silences.map((s) => s.id)).toContain(silence.id);

      expect(await b.alerts.expireSilence(silence.id)).toBe(true);
      await a.alerts.runMaintenance();
      expect((await a.alerts.listSilences()).map((s) => s.id)).not.toContain(silence.id);
      expect((await a.alerts.sendCriticalAlert(alert('client_s1'))).status).toBe('delivered');
      expect(await a.alerts.expireSilence(silence.id)).toBe(false);
    });

    it('a silence expires on its own on every instance, and a new instance picks up the active ones', async () => {
      const a = instance();
      const silence = await a.alerts.createSilence({ resourceId: 'client_s3' }, { durationMs: 60_000 });
      const late = instance();
      await late.alerts.runMaintenance();
      expect((await late.alerts.sendCriticalAlert(alert('client_s3'))).status).toBe('silenced');
      now += 61_000;
      await late.alerts.runMaintenance();
      expect((await late.alerts.listSilences()).map((s) => s.id)).not.toContain(silence.id);
      expect((await late.alerts.sendCriticalAlert(alert('client_s3'))).status).toBe('delivered');
    });
  });
}
