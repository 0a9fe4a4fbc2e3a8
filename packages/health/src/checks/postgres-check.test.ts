import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, eventually, requirePostgres, startTcpProxy, type TcpProxy } from '@hardening/test-support';
import { captureLogger, listen } from '../../test/support.js';
import { createHealthRouter } from '../express-router.js';
import { HealthMonitor } from '../health-monitor.js';
import { PrismaClient } from '../../test/prisma/generated/client.js';
import { postgresCheck, type PrismaQueryRaw } from './postgres-check.js';

const postgresUp = await requirePostgres();

describe('postgresCheck: option checks', () => {
  it('needs exactly one of prisma, client, query', () => {
    expect(() => postgresCheck({})).toThrow('Expected exactly one of `prisma`, `client` or `query`.');
    expect(() => postgresCheck({ query: () => 1, client: { query: () => Promise.resolve(1) } })).toThrow('Expected exactly one');
    expect(() => postgresCheck({ client: {} as never })).toThrow('Expected `client` to have a `query(text)` method.');
    expect(() => postgresCheck({ prisma: {} as never })).toThrow('Expected `prisma` to have a `$queryRaw` method.');
    expect(() => postgresCheck({ query: () => 1, warnAboveMs: -1 })).toThrow('Expected `warnAboveMs` to be a non-negative number');
    // The value as given, not "[object Object]", and a string quoted so "5" does not read as 5.
    expect(() => postgresCheck({ query: () => 1, warnAboveMs: { ms: 5 } as never })).toThrow('to be a non-negative number, got an object.');
    expect(() => postgresCheck({ query: () => 1, warnAboveMs: '5' as never })).toThrow('to be a non-negative number, got "5".');
  });

  it('defaults: postgres:responseTime, datastore, critical', () => {
    const check = postgresCheck({ query: () => 1 });
    expect(check).toMatchObject({ name: 'postgres', measurement: 'responseTime', componentType: 'datastore' });
    expect(check.critical).toBeUndefined();
    expect(postgresCheck({ query: () => 1, name: 'replica', critical: false })).toMatchObject({ name: 'replica', critical: false });
  });
});

describe.skipIf(!postgresUp)('postgresCheck against a real PostgreSQL behind a TCP proxy', () => {
  let proxy: TcpProxy;
  let pool: pg.Pool;
  const poolErrors: unknown[] = [];

  // These tests check what is measured and reported, not the database's speed: with the 2
  // shared cores busy a SELECT 1 took over the 500 ms default and turned `pass` into `warn`.
  const warnAboveMs = 10_000;

  beforeAll(async () => {
    const target = new URL(databaseUrl);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    pool = new pg.Pool({ connectionString: proxy.url(databaseUrl), max: 4 });
    pool.on('error', (error) => poolErrors.push(error));
  });

  afterAll(async () => {
    proxy.restore();
    await pool.end().catch(() => {});
    await proxy.close();
  });

  it('reports the round-trip time of SELECT 1 through a pg Pool', async () => {
    const monitor = new HealthMonitor({ checks: [postgresCheck({ client: pool, warnAboveMs })], logger: captureLogger() });
    const [result] = (await monitor.report()).checks;
    expect(result).toMatchObject({ key: 'postgres:responseTime', status: 'pass', componentType: 'datastore' });
    expect(result!.observations[0]).toMatchObject({ status: 'pass', observedUnit: 'ms' });
    expect(result!.observations[0]!.observedValue).toBeGreaterThan(0);
  });

  it('works with a real Prisma 7 client (driver adapter for pg): pass, fail while the database is cut, pass again', async () => {
    const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: proxy.url(databaseUrl) }) });
    try {
      const monitor = new HealthMonitor({
        checks: [postgresCheck({ prisma, warnAboveMs })],
        cacheMs: 1,
        maxStaleMs: 1,
        timeoutMs: 10_000,
        logger: captureLogger(),
      });
      const first = (await monitor.report()).checks[0]!;
      expect(first).toMatchObject({ key: 'postgres:responseTime', status: 'pass' });
      expect(first.observations[0]!.observedValue).toBeGreaterThan(0);
      proxy.cut();
      await eventually(async () => (await monitor.report()).status === 'fail', 15_000);
      proxy.restore();
      await eventually(async () => (await monitor.report()).status === 'pass', 15_000);
    } finally {
      proxy.restore();
      await prisma.$disconnect();
    }
  }, 60_000);

  it('calls Prisma-style $queryRaw as a tagged template', async () => {
    const calls: TemplateStringsArray[] = [];
    // The shape of PrismaClient.$queryRaw, executed on the real database.
    const prisma: PrismaQueryRaw = {
      $queryRaw: (strings, ...values) => {
        calls.push(strings);
        const text = strings.reduce((sql, part, i) => `${sql}${i > 0 ? `$${i}` : ''}${part}`, '');
        return pool.query(text, values).then((r) => r.rows);
      },
    };
    const monitor = new HealthMonitor({ checks: [postgresCheck({ prisma, warnAboveMs })], logger: captureLogger() });
    expect((await monitor.report()).status).toBe('pass');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.raw).toEqual(['SELECT 1']);
  });

  it('warns when the database is slower than warnAboveMs (pg_sleep on the server)', async () => {
    const check = postgresCheck({ query: () => pool.query('SELECT pg_sleep(0.08)'), warnAboveMs: 40 });
    const monitor = new HealthMonitor({ checks: [check], logger: captureLogger() });
    const [result] = (await monitor.report()).checks;
    expect(result!.status).toBe('warn');
    expect(result!.observations[0]!.output).toMatch(/^slow: \d+(\.\d)? ms \(warn above 40 ms\)$/);
  });

  it('liveness stays 200 while the database is down; readiness flips to 503 and back (refused, then hanging)', async () => {
    const hungAfterMs = 8000;
    const router = createHealthRouter({
      checks: [postgresCheck({ client: pool, warnAboveMs })],
      cacheMs: 50,
      // A hung run fails at `timeoutMs`; the gap between that and the cached answer's bound
      // below is the margin for a loaded machine (it was 1000 against 900 ms).
      maxStaleMs: 60_000,
      timeoutMs: hungAfterMs,
      logger: captureLogger(),
    });
    const server = await listen(router);
    const get = (path: string) => fetch(`${server.url}${path}`).then((r) => r.status);
    try {
      expect(await get('/health/ready')).toBe(200);
      expect(await get('/health/live')).toBe(200);

      proxy.cut();
      await eventually(async () => (await get('/health/ready')) === 503, 30_000);
      expect(await get('/health/live')).toBe(200);
      expect(await get('/health')).toBe(503);

      proxy.restore();
      await eventually(async () => (await get('/health/ready')) === 200, 30_000);

      proxy.hang();
      await eventually(async () => (await get('/health/ready')) === 503, 30_000);
      expect(await get('/health/live')).toBe(200);
      // Served from the cache while the next refresh hangs: no probe waits for the timeout.
      const started = performance.now();
      expect(await get('/health/ready')).toBe(503);
      expect(performance.now() - started).toBeLessThan(hungAfterMs / 2);

      proxy.restore();
      await eventually(async () => (await get('/health/ready')) === 200, 30_000);
    } finally {
      proxy.restore();
      await server.close();
    }
  }, 120_000);
});
