// Issue 11, "app-2 crashed in the combined run": an instance restarted while PostgreSQL
// hung exited 1 at start-up (its migration's connection timed out). Start-up now waits for
// the database to answer, with readiness 503 meanwhile, and gives up only past its wait.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BreakerRegistry, createSafeCall, silentLogger } from '@hardening/core';
import { createTestDatabase, requirePostgres, startTcpProxy, type TcpProxy, type TestDatabase } from '@hardening/test-support';
import { openDatabase } from '../../src/db/database.js';

const pgUp = await requirePostgres();

describe.skipIf(!pgUp)('start-up while PostgreSQL does not answer', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  beforeAll(async () => {
    database = await createTestDatabase('startup_wait');
    const target = new URL(database.url);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  });
  afterAll(async () => {
    await proxy?.close();
    await database?.drop();
  });
  const open = (startupWaitMs: number) =>
    openDatabase({
      databaseUrl: proxy.url(database.url),
      logger: silentLogger,
      safeCall: createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger }),
      startupWaitMs,
    });

  it('a database hung past the connect timeout (5 s) when start-up begins: start-up waits, then migrates once it answers', async () => {
    proxy.hang();
    const restored = new Promise<void>((resolve) => setTimeout(() => resolve(proxy.restore()), 7000));
    const db = await open(120_000);
    await restored;
    try {
      expect(await db.prisma.client.count()).toBe(0);
    } finally {
      await db.close();
    }
  }, 60_000);

  it('gives up (throws) once its wait is over', async () => {
    proxy.cut();
    try {
      await expect(open(1500)).rejects.toThrow();
    } finally {
      proxy.restore();
    }
  }, 60_000);
});
