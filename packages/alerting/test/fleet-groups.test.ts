// Aggregation groups across instances, from the caller's side: two service instances on
// one real store (Redis, then PostgreSQL) raise alerts of a grouped type at the same time;
// one message goes out for the whole group, fleet-wide, and every caller's promise resolves.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requirePostgres, requireRedis } from '@hardening/test-support';
import { createAlertService, type AlertService, type AlertStore } from '../src/index.js';
import { captureLogger } from './support/capture-logger.js';
import { openSharedStore, type SharedStore } from './support/shared-store.js';
import { recordingSink } from './support/recording-sink.js';

const redisUp = await requireRedis();
const postgresUp = await requirePostgres();

for (const kind of ['redis', 'postgres'] as const) {
  describe.skipIf(kind === 'redis' ? !redisUp : !postgresUp)(`aggregation across instances (${kind})`, () => {
    let shared: SharedStore;
    let store: AlertStore;
    const started: AlertService[] = [];

    beforeAll(async () => {
      shared = await openSharedStore(kind, 'alert-groups');
      store = shared.store;
    });
    afterAll(() => shared.close());
    afterEach(async () => {
      await Promise.all(started.splice(0).map((s) => s.close()));
    });

    it('alerts of a grouped type raised on two instances within groupWaitMs go out as one message with every member; every promise resolves', async () => {
      const type = `CLIENT_STUCK_${kind.toUpperCase()}_${Date.now()}`;
      const instance = () => {
        const slack = recordingSink('slack');
        // A wait long enough for both instances' alerts to land inside it on a slow machine.
        const alerts = createAlertService({
          sinks: [slack],
          store,
          logger: captureLogger(),
          maintenanceIntervalMs: false,
          env: {},
          types: { [type]: { groupWaitMs: 3000 } },
        });
        started.push(alerts);
        return { alerts, slack };
      };
      const a = instance();
      const b = instance();
      const raise = (on: AlertService, client: string) =>
        on.sendCriticalAlert({ type, severity: 'MEDIUM', resourceId: client, title: `Client ${client} stuck`, message: 'in AWAITING_NUMBER' });
      const first = raise(a.alerts, 'c1'); // a claims the leadership first
      await new Promise((resolve) => setTimeout(resolve, 100));
      const results = await Promise.all([first, raise(a.alerts, 'c2'), raise(b.alerts, 'c3'), raise(b.alerts, 'c4'), raise(b.alerts, 'c5')]);

      expect(results.map((r) => r.status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered', 'delivered']);
      const messages = [...a.slack.received, ...b.slack.received];
      expect(messages).toHaveLength(1);
      expect(messages[0]!.members?.map((m) => m.resourceId).sort()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
      // Whichever instance won the leadership (a raised first, but under load b's claim may
      // land first) reports the group; the other's callers were handed over to it.
      const leader = results[0].groupSize === 5 ? [0, 1] : [2, 3, 4];
      results.forEach((result, index) => {
        if (leader.includes(index)) expect(result.groupSize).toBe(5);
        else expect(result.reason).toMatch(/^handed to the group .* led by another instance/);
      });

      await Promise.all([a.alerts.close(), b.alerts.close()]);
      const delivered = (await store.history({ since: 0, type })).filter((r) => r.outcome === 'delivered');
      expect(delivered.map((r) => r.resourceId).sort()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
    });
  });
}
