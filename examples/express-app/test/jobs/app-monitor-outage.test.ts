// The runtime monitor's invariants while PostgreSQL is down (the chaos harness saw HIGH
// INVARIANT_VIOLATION pages whose message was "threw: circuit open for database: not
// called" during each database outage, 28-95 lines a run): an invariant the database cannot
// check is neither broken nor fixed. A real PostgreSQL behind a TCP proxy that is cut; the
// monitor's clock and timers are simulated, the queries are real I/O.
import { createSafeCall, silentLogger, BreakerRegistry } from '@hardening/core';
import { eventually, requirePostgres, startTcpProxy, type TcpProxy, type TestDatabase } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { addNumbers } from '../../src/domain/number-pool.js';
import { createAppMonitor } from '../../src/jobs/app-monitor.js';
import { migratedPostgresDatabase } from '../support/databases.js';
import { recordingAlerts } from './support/alerts.js';
import { captureLogger } from './support/logs.js';
import { VirtualTime } from './support/virtual-time.js';

const postgresUp = await requirePostgres();
const minute = 60_000;
const systemNumber = '+15550000000';

describe.skipIf(!postgresUp)('runtime monitor invariants while PostgreSQL is down (real PostgreSQL behind a proxy)', () => {
  let created: TestDatabase;
  let proxy: TcpProxy;
  let db: Database;
  beforeAll(async () => {
    created = await migratedPostgresDatabase('monitor_outage');
    const url = new URL(created.url);
    proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
    // The app's own breaker on the database, as in production: the outage opens it.
    const safeCall = createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger });
    db = await openDatabase({ databaseUrl: proxy.url(created.url), logger: silentLogger, safeCall });
  });
  afterAll(async () => {
    await db?.close();
    await proxy?.close();
    await created?.drop();
  });

  it('an open violation is neither re-raised nor resolved while the database is down; INVARIANT_UNCHECKED (MEDIUM) after 3 rounds, resolved when it answers', async () => {
    const time = new VirtualTime(Date.parse('2026-03-01T09:00:00Z'));
    const { alerts, alertsOf, resolvesOf } = recordingAlerts({ clock: time });
    const logger = captureLogger();
    await addNumbers(db.prisma, [systemNumber], 'SYSTEM');
    await addNumbers(db.prisma, ['+15559991001', '+15559991002', '+15559991003']);
    await db.prisma.poolNumber.create({ data: { phoneNumber: '+15559991004', status: 'ASSIGNED' } });
    const monitor = createAppMonitor({ db: db.prisma, alerts, logger, systemNumber, random: () => 0.5, clock: time, timers: time });
    const runFor = (ms: number) => time.advance(ms, () => monitor.settled());
    try {
      expect((await monitor.start()).map((v) => v.invariant)).toEqual(['assigned numbers have a client']);

      proxy.cut();
      await runFor(3 * 5 * minute + 30_000); // three rounds
      const violations = alertsOf('INVARIANT_VIOLATION');
      expect(violations.map((a) => a.message.resourceId)).toEqual(['assigned numbers have a client']);
      expect(violations.some((a) => /threw|circuit open/.test(a.message.message))).toBe(false);
      expect(resolvesOf('INVARIANT_VIOLATION')).toEqual([]);
      const unchecked = alertsOf('INVARIANT_UNCHECKED');
      expect(unchecked.length).toBeGreaterThan(0);
      expect(new Set(unchecked.map((a) => a.message.severity))).toEqual(new Set(['MEDIUM']));
      expect(new Set(unchecked.map((a) => a.message.resourceId)).size).toBe(unchecked.length); // one per invariant
      expect(logger.lines.some((l) => l.level === 'warn' && /could not be checked/.test(l.msg ?? ''))).toBe(true);

      proxy.restore();
      // The database breaker's cooldown runs on real time: wait until a query passes.
      await eventually(
        () =>
          db.prisma.$queryRaw`SELECT 1`.then(
            () => true,
            () => false,
          ),
        30_000,
        250,
      );
      await runFor(5 * minute);
      expect(
        resolvesOf('INVARIANT_UNCHECKED')
          .map((a) => a.message.resourceId)
          .sort(),
      ).toEqual(unchecked.map((a) => a.message.resourceId).sort());
      // Still broken, and still open: neither resolved nor paged again inside its window.
      expect(resolvesOf('INVARIANT_VIOLATION').map((a) => a.message.resourceId)).not.toContain('assigned numbers have a client');
      expect(alertsOf('INVARIANT_VIOLATION')).toHaveLength(1);
    } finally {
      proxy.restore();
      await monitor.stop();
      await alerts.close();
    }
  }, 120_000);
});
