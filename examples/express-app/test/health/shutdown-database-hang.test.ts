// Issue 11, "SIGTERM during a PostgreSQL hang exits 1": main.ts in its own process on a
// PostgreSQL reached through a TCP proxy. The proxy hangs (connections accepted, nothing
// forwarded) while the outbox worker is mid-round; SIGTERM must still end in exit 0 within the
// shutdown budget, with a line naming what was left behind (its rows stay in the outbox).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BreakerRegistry, createSafeCall, silentLogger } from '@hardening/core';
import { requirePostgres, startTcpProxy, type TcpProxy, type TestDatabase } from '@hardening/test-support';
import { openDatabase } from '../../src/db/database.js';
import { startMainProcess, type MainProcess } from '../support/main-process.js';
import { migratedPostgresDatabase } from '../support/databases.js';
const pgUp = await requirePostgres();

describe.skipIf(!pgUp)('SIGTERM while PostgreSQL hangs', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let app: MainProcess | undefined;
  beforeAll(async () => {
    database = await migratedPostgresDatabase('shutdown_hang');
    const migrated = await openDatabase({
      databaseUrl: database.url,
      logger: silentLogger,
      safeCall: createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger }),
    });
    await migrated.close();
    const target = new URL(database.url);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  });
  afterAll(async () => {
    app?.kill();
    await proxy?.close();
    await database?.drop();
  });

  it('stops the scheduler without waiting on the hung database and exits 0 within the budget', async () => {
    app = await startMainProcess({ DATABASE_URL: proxy.url(database.url), SHUTDOWN_DRAIN_DELAY_MS: '500' }, 90_000);

    proxy.hang();
    // The outbox worker runs every 1.5 s: after 4 s a round (and the lock session) waits on the hung database.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const signalled = Date.now();
    app.child.kill('SIGTERM');
    const { code, at } = await app.exited;
    proxy.restore();

    expect(code, app.output().slice(-3000)).toBe(0);
    // The app's own hard limit is 25 s from the signal (GracefulShutdown's timeoutMs); past it the exit would be 1.
    expect(at - signalled).toBeLessThan(25_000);
    expect(app.output()).toMatch(/scheduler: stopped without waiting for .*outbox worker/);
    expect(app.output()).toMatch(/exiting with 0/);
  }, 150_000);
});
