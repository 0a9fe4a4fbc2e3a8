// The service under test for bench/health.bench.ts, in its own process so the load
// generator does not share its event loop: Express + createHealthRouter, PostgreSQL (pg
// Pool) behind a TCP proxy that the bench can make hang, and a counter of the queries
// the check sends. It lives in this package (not in bench/) so that `pg` and
// `@hardening/test-support` resolve from here; `@hardening/health` resolves to the built
// package (dist) through the package's own exports, as the bench runner requires.
import express from 'express';
import pg from 'pg';
import { databaseUrl, serveRequests, startTcpProxy } from '@hardening/test-support';
import { createHealthRouter, postgresCheck } from '@hardening/health';

const cacheMs = Number(process.env.CACHE_MS ?? 1000);
const timeoutMs = Number(process.env.TIMEOUT_MS ?? 500);
const target = new URL(databaseUrl);
const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
const pool = new pg.Pool({ connectionString: proxy.url(databaseUrl), max: 4 });
pool.on('error', () => {});

/** When each probe query was sent (epoch ms). */
const queries: number[] = [];
const router = createHealthRouter({
  serviceId: 'bench',
  cacheMs,
  timeoutMs,
  maxStaleMs: 5000,
  logger: { debug() {}, info() {}, warn() {}, error() {} },
  checks: [
    postgresCheck({
      query: () => {
        queries.push(Date.now());
        return pool.query('SELECT 1');
      },
    }),
  ],
});
const app = express();
app.use(router);
const server = app.listen(0, '127.0.0.1');
await new Promise<void>((resolve) => server.once('listening', resolve));
let hungAt: number | undefined;

serveRequests(async (message) => {
  switch (message.cmd) {
    case 'port':
      return { port: (server.address() as { port: number }).port };
    case 'hang':
      hungAt = Date.now();
      proxy.hang();
      return { hungAt };
    case 'queries':
      return { queries };
    case 'stop':
      server.closeAllConnections();
      server.close();
      proxy.restore();
      await pool.end().catch(() => {});
      await proxy.close();
      setImmediate(() => process.exit(0));
      return { hungAt };
    default:
      throw new Error(`unknown command ${String(message.cmd)}`);
  }
});
