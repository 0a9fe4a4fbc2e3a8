// Inhibition rules as configuration, from the caller's side with two instances on one real
// store (Redis, then PostgreSQL): an open source alert on one instance mutes matching
// targets raised on the other; equal labels, resolve and the default rule.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requirePostgres, requireRedis } from '@hardening/test-support';
import { createAlertService, defaultInhibitRule, type AlertService, type AlertServiceOptions, type AlertStore } from '../src/index.js';
import { captureLogger } from './support/capture-logger.js';
import { openSharedStore, type SharedStore } from './support/shared-store.js';
import { recordingSink } from './support/recording-sink.js';

const redisUp = await requireRedis();
const postgresUp = await requirePostgres();

for (const kind of ['redis', 'postgres'] as const) {
  describe.skipIf(kind === 'redis' ? !redisUp : !postgresUp)(`inhibition rules (${kind}, 2 instances)`, () => {
    let shared: SharedStore;
    let store: AlertStore;
    const now = Date.parse('2026-03-01T03:00:00Z');
    const started: AlertService[] = [];
    let serial = 0;

    beforeAll(async () => {
      shared = await openSharedStore(kind, 'alert-inhibit');
      store = shared.store;
    });
    afterAll(() => shared.close());
    afterEach(async () => {
      await Promise.all(started.splice(0).map((s) => s.close()));
    });

    function instance(options: Partial<AlertServiceOptions>) {
      const slack = recordingSink('slack');
      const alerts = createAlertService({
        sinks: [slack],
        store,
        clock: { now: () => now },
        logger: captureLogger(),
        maintenanceIntervalMs: false,
        env: {},
        ...options,
      });
      started.push(alerts);
      return alerts;
    }

    it('an open DB_DOWN on one instance mutes QUEUE_BACKLOG raised on another (rule without equal labels); after its resolve they page again', async () => {
      const n = ++serial;
      const rules = { inhibitRules: [{ source: { type: `DB_DOWN_${n}` }, target: { type: [`QUEUE_BACKLOG_${n}`] } }] };
      const [a, b] = [instance(rules), instance(rules)];
      expect((await a.sendCriticalAlert({ type: `DB_DOWN_${n}`, severity: 'HIGH', resourceId: 'db1', title: 'Database down', message: 'x' })).status).toBe(
        'delivered',
      );
      const muted = await b.sendCriticalAlert({ type: `QUEUE_BACKLOG_${n}`, severity: 'HIGH', resourceId: 'queue-7', title: 'Queue backing up', message: 'y' });
      expect(muted).toMatchObject({
        status: 'inhibited',
        reason: expect.stringMatching(new RegExp(`^inhibited by rule 0: DB_DOWN_${n} \\(HIGH\\) is open on db1$`)),
      });
      expect((await b.sendCriticalAlert({ type: `DISK_FULL_${n}`, severity: 'MEDIUM', resourceId: 'db1', title: 'Disk', message: 'z' })).status).toBe(
        'delivered',
      ); // no rule, and the default rule is replaced

      await b.resolveAlert({ type: `DB_DOWN_${n}`, resourceId: 'db1' });
      expect(
        (await a.sendCriticalAlert({ type: `QUEUE_BACKLOG_${n}`, severity: 'HIGH', resourceId: 'queue-7', title: 'Queue backing up', message: 'y' })).status,
      ).toBe('delivered');
      await Promise.all([a.close(), b.close()]);
      expect((await store.history({ since: 0, type: `QUEUE_BACKLOG_${n}` })).map((r) => r.outcome).sort()).toEqual(['delivered', 'inhibited']);
    });

    it('equal labels: a source inhibits only targets on its own resource; the default rule can be kept next to new ones', async () => {
      const n = ++serial;
      const rules = {
        inhibitRules: [
          defaultInhibitRule,
          { source: { type: `NODE_DOWN_${n}` }, target: { severity: ['HIGH' as const, 'MEDIUM' as const] }, equal: ['resourceId' as const] },
        ],
      };
      const [a, b] = [instance(rules), instance(rules)];
      await a.sendCriticalAlert({ type: `NODE_DOWN_${n}`, severity: 'MEDIUM', resourceId: 'node-1', title: 'Node down', message: 'x' });
      expect((await b.sendCriticalAlert({ type: `HIGH_LATENCY_${n}`, severity: 'HIGH', resourceId: 'node-1', title: 'Latency', message: 'y' })).status).toBe(
        'inhibited',
      );
      expect((await b.sendCriticalAlert({ type: `HIGH_LATENCY_${n}`, severity: 'HIGH', resourceId: 'node-2', title: 'Latency', message: 'y' })).status).toBe(
        'delivered',
      );
      // The default rule: the HIGH on node-2 mutes a LOW on node-2.
      expect((await a.sendCriticalAlert({ type: `SLOW_GC_${n}`, severity: 'LOW', resourceId: 'node-2', title: 'GC', message: 'z' })).status).toBe('inhibited');
    });
  });
}

describe('inhibition rule configuration', () => {
  it('refuses bad rules with a TypeError naming the field; inhibit: false turns inhibition off', async () => {
    const base = { logger: captureLogger(), maintenanceIntervalMs: false as const, env: {} };
    expect(() => createAlertService({ ...base, inhibitRules: [{ source: { colour: 'red' } as never, target: {} }] })).toThrow(
      /`inhibitRules\[0\].source` to match on type, severity or resourceId/,
    );
    expect(() => createAlertService({ ...base, inhibitRules: [{ source: {}, target: { severity: 'URGENT' as never } }] })).toThrow(
      /`inhibitRules\[0\].target.severity`/,
    );
    expect(() => createAlertService({ ...base, inhibitRules: [{ source: {}, target: {}, equal: ['host' as never] }] })).toThrow(/`inhibitRules\[0\].equal`/);
    const alerts = createAlertService({ ...base, sinks: [recordingSink('slack')], inhibit: false });
    await alerts.sendCriticalAlert({ type: 'A', severity: 'HIGH', resourceId: 'r', title: 't', message: 'm' });
    expect((await alerts.sendCriticalAlert({ type: 'B', severity: 'LOW', resourceId: 'r', title: 't', message: 'm' })).status).toBe('delivered');
    await alerts.close();
  });
});
