// The hot path's statement runner on a real PostgreSQL pool (src/db/statement-runner.ts):
// runBuilt builds the statement once a connection is held, and a connection reset in the
// middle of its query fails the call (the client leaves the pool) instead of ending the
// process with an uncaught 'error' event, as pool.query guards it.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, requirePostgres, startTcpProxy, type TcpProxy } from '@hardening/test-support';
import { poolRunner } from '../../src/db/statement-runner.js';

const postgresUp = await requirePostgres();

describe.skipIf(!postgresUp)('poolRunner on PostgreSQL', () => {
  let proxy: TcpProxy;
  const pools: pg.Pool[] = [];
  beforeAll(async () => {
    const target = new URL(databaseUrl);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  });
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end()));
    await proxy?.close();
  });
  /** A pool of two through the proxy; an idle client's error is the pool's, as the app listens for it (db/database.ts). */
  function newPool(): pg.Pool {
    const url = new URL(databaseUrl);
    url.port = String(proxy.port);
    const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
    pool.on('error', () => undefined);
    pools.push(pool);
    return pool;
  }

  it('runBuilt builds the statement only once it holds a connection, and gives the connection back', async () => {
    const pool = newPool();
    const held = [await pool.connect(), await pool.connect()]; // the pool is full
    let built = false;
    const running = poolRunner(pool).runBuilt<{ one: number }>(() => {
      built = true;
      return { name: 'runner_one', text: 'SELECT 1 AS one', values: [] };
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(built).toBe(false);
    held[0]!.release();
    expect(await running).toEqual([{ one: 1 }]);
    expect(built).toBe(true);
    held[1]!.release();
    expect(pool.idleCount).toBe(2);
  });

  it('a connection reset in the middle of the query fails the call, and the client leaves the pool', async () => {
    const pool = newPool();
    const running = poolRunner(pool).runBuilt(() => ({ name: 'runner_sleep', text: 'SELECT pg_sleep(5)', values: [] }));
    const failed = running.then(
      () => undefined,
      (error: unknown) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    proxy.cut();
    expect(await failed).toBeInstanceOf(Error);
    proxy.restore();
    expect(pool.totalCount).toBe(0);
  });
});
