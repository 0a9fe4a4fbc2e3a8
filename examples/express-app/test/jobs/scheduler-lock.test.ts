// One instance per monitor round and per retention day, with the PostgreSQL advisory lock
// (a dedicated session that reconnects after a drop) and the Redis lock, between two app
// instances sharing the database.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresMonitorLock } from '@hardening/alerting';
import { silentLogger } from '@hardening/core';
import { databaseUrl, redisUrl, requirePostgres, requireRedis, uniquePrefix, type TestDatabase } from '@hardening/test-support';
import { loadConfig } from '../../src/config/config.js';
import { buildContext, type BuiltContext } from '../../src/context.js';
import { createAppMonitor, type AppMonitor } from '../../src/jobs/app-monitor.js';
import { ReconnectingPgSession, createSchedulerLock, type SchedulerLock } from '../../src/jobs/scheduler-lock.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { systemNumber } from '../support/sms.js';
import { migratedPostgresDatabase } from '../support/databases.js';

const [pgUp, redisUp] = await Promise.all([requirePostgres(), requireRedis()]);

describe.skipIf(!pgUp)('one instance per round (PostgreSQL advisory locks)', () => {
  let pgDb: TestDatabase;
  let a: BuiltContext;
  let b: BuiltContext;
  beforeAll(async () => {
    pgDb = await migratedPostgresDatabase('scheduler_lock');
    const config = loadConfig({ DATABASE_URL: pgDb.url, LOG_LEVEL: 'silent' });
    a = await buildContext(config, { logger: silentLogger, spoolFile: join(tmpdir(), `spool-a-${process.pid}.jsonl`) });
    b = await buildContext(config, { logger: silentLogger, spoolFile: join(tmpdir(), `spool-b-${process.pid}.jsonl`) });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await pgDb?.drop();
  });

  /**
   * Two instances' monitors on 1 s rounds; each records the rounds it ran. (A lock is only
   * asked to cover an instance that starts its round less than an interval late: in
   * production 5 minutes, here 1 s, plenty on a loaded test machine.)
   */
  async function race(locks: [SchedulerLock, SchedulerLock], duringRound?: (round: number) => Promise<void>) {
    const runs: Array<{ instance: string; round: number }> = [];
    const monitors: AppMonitor[] = locks.map((lock, i) => {
      const monitor = createAppMonitor({
        db: a.ctx.db.prisma,
        alerts: a.ctx.alerts,
        logger: silentLogger,
        systemNumber,
        lock: lock.lock!,
        intervalMs: 1000,
        jitterMs: 0,
      });
      monitor.register('probe', async ({ round }) => {
        runs.push({ instance: i === 0 ? 'a' : 'b', round });
        await duringRound?.(round);
      });
      return monitor;
    });
    await Promise.all(monitors.map((m) => m.start()));
    await new Promise((resolve) => setTimeout(resolve, 4500));
    await Promise.all(monitors.map((m) => m.stop()));
    await Promise.all(locks.map((l) => l.close()));
    return runs;
  }

  it('the monitor: every round runs on exactly one of two instances', async () => {
    const locks: [SchedulerLock, SchedulerLock] = [
      createSchedulerLock({ databaseUrl: pgDb.url, logger: silentLogger }),
      createSchedulerLock({ databaseUrl: pgDb.url, logger: silentLogger }),
    ];
    expect(locks.map((l) => l.kind)).toEqual(['postgres', 'postgres']);
    const runs = await race(locks);
    const rounds = runs.map((r) => r.round);
    // At least two 1 s rounds in 4.5 s even on a busy machine; what matters is none twice.
    expect(rounds.length).toBeGreaterThanOrEqual(2);
    expect(new Set(rounds).size).toBe(rounds.length); // no round twice
  });

  it('retention: two instances at 04:00, one runs it', async () => {
    const schedulers = [new Scheduler(a.ctx), new Scheduler(b.ctx)];
    try {
      expect(schedulers.map((s) => s.lockKind)).toEqual(['postgres', 'postgres']);
      const reports = await Promise.all(schedulers.map((s) => s.retentionRound()));
      expect(reports.filter((r) => r !== undefined)).toHaveLength(1);
      // Later the same day (an instance restarted): still not run again.
      const late = new Scheduler(b.ctx);
      expect(await late.retentionRound()).toBeUndefined();
      await late.stop();
    } finally {
      await Promise.all(schedulers.map((s) => s.stop()));
    }
  });

  it('the lock session reconnects after PostgreSQL drops it', async () => {
    const session = new ReconnectingPgSession(pgDb.url, silentLogger);
    const other = new ReconnectingPgSession(pgDb.url, silentLogger);
    const lock = createPostgresMonitorLock({ client: session });
    const rival = createPostgresMonitorLock({ client: other });
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    try {
      expect(await lock.tryAcquire({ name: 'm', round: 1, ttlMs: 60_000 })).toBe(true);
      const { rows } = await session.query('SELECT pg_backend_pid() AS pid');
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      // The dropped session's locks are gone; the next rounds work again on a new connection.
      let acquired: number | undefined;
      for (let round = 2; round <= 4 && acquired === undefined; round++) if (await lock.tryAcquire({ name: 'm', round, ttlMs: 60_000 })) acquired = round;
      expect(acquired).toBeDefined();
      const { rows: after } = await session.query('SELECT pg_backend_pid() AS pid');
      expect(after[0]!.pid).not.toBe(rows[0]!.pid);
      expect(await rival.tryAcquire({ name: 'm', round: acquired!, ttlMs: 60_000 })).toBe(false); // held by the new session
    } finally {
      await admin.end();
      await session.close();
      await other.close();
    }
  });

  describe.skipIf(!redisUp)('with Redis', () => {
    let redis: Redis;
    beforeAll(() => {
      redis = new Redis(redisUrl);
    });
    afterAll(() => {
      redis?.disconnect();
    });

    it('the monitor: every round runs on exactly one of two instances (Redis lock preferred)', async () => {
      const prefix = uniquePrefix('scheduler');
      const locks: [SchedulerLock, SchedulerLock] = [
        createSchedulerLock({ redis, databaseUrl: pgDb.url, keyPrefix: prefix, logger: silentLogger }),
        createSchedulerLock({ redis, databaseUrl: pgDb.url, keyPrefix: prefix, logger: silentLogger }),
      ];
      expect(locks.map((l) => l.kind)).toEqual(['redis', 'redis']);
      // The lock key lives one interval (1 s): look for it while its round runs, not after
      // the monitors stop (on a busy machine it may have expired by then).
      const lockKeysSeen: number[] = [];
      const runs = await race(locks, async () => {
        lockKeysSeen.push((await redis.keys(`${prefix}:scheduler-lock:*`)).length);
      });
      const rounds = runs.map((r) => r.round);
      expect(rounds.length).toBeGreaterThanOrEqual(2);
      expect(new Set(rounds).size).toBe(rounds.length);
      expect(lockKeysSeen.some((n) => n > 0)).toBe(true);
    });

    it('retention: one of two instances runs it', async () => {
      const prefix = uniquePrefix('retention');
      const schedulers = [new Scheduler(a.ctx, { redis, redisKeyPrefix: prefix }), new Scheduler(b.ctx, { redis, redisKeyPrefix: prefix })];
      try {
        expect(schedulers.map((s) => s.lockKind)).toEqual(['redis', 'redis']);
        const reports = await Promise.all(schedulers.map((s) => s.retentionRound()));
        expect(reports.filter((r) => r !== undefined)).toHaveLength(1);
      } finally {
        await Promise.all(schedulers.map((s) => s.stop()));
        await redis.del(...(await redis.keys(`${prefix}:*`)));
      }
    });
  });
});
