// Classifiers checked against the errors real drivers and SDKs raise, on real servers.
import { createServer, type Server } from 'node:http';
import { Redis } from 'ioredis';
import pg from 'pg';
import twilio from 'twilio';
import { WebClient, retryPolicies } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, freePort, redisUrl, requirePostgres, requireRedis } from '@hardening/test-support';
import { TimeoutError } from '../errors/timeout-error.js';
import { classifyError } from './classify.js';
import { isTransientPostgresError, isTransientPrismaError, isTransientRedisError } from './database.js';
import { httpStatusOf, isTransientHttpError, parseRetryAfter, retryAfterMs } from './http.js';
import { isNetworkError } from './network.js';
import { isTransientError } from './transient.js';

const pgUp = await requirePostgres();
const redisUp = await requireRedis();

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

const caught = async (run: () => Promise<unknown>): Promise<unknown> => {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
};

describe('network errors (real sockets)', () => {
  it('connection refused, through fetch', async () => {
    const port = await freePort();
    const error = await caught(() => fetch(`http://127.0.0.1:${port}/`));
    expect(isNetworkError(error)).toBe(true);
    expect(isTransientError(error)).toBe(true);
  });

  it('connection reset mid-response, through fetch', async () => {
    const { server, url } = await listen((req) => req.socket.resetAndDestroy());
    const error = await caught(() => fetch(url));
    expect(isNetworkError(error)).toBe(true);
    server.close();
  });

  it('a programming error is not a network error', () => {
    expect(isNetworkError(new TypeError('x.y is not a function'))).toBe(false);
    expect(isTransientError(new RangeError('bad'))).toBe(false);
  });

  it('our own attempt timeout is transient', () => {
    expect(isTransientError(new TimeoutError('x', 10))).toBe(true);
  });
});

describe('HTTP errors from the real Twilio and Slack SDKs', () => {
  let twilioServer: Server;
  let twilioUrl: string;
  let status = 503;
  beforeAll(async () => {
    ({ server: twilioServer, url: twilioUrl } = await listen((req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ code: status === 503 ? 20503 : 21211, message: 'Service unavailable', more_info: 'https://www.twilio.com/docs/errors', status }),
      );
    }));
  });
  afterAll(() => twilioServer.close());

  const twilioClient = () =>
    twilio('AC00000000000000000000000000000000', 'test-token', {
      httpClient: {
        request: (opts: { uri: string }) => new twilio.RequestClient().request({ ...opts, uri: opts.uri.replace(/^https:\/\/[^/]+/, twilioUrl) } as never),
      } as never,
    });

  it('Twilio 503 is transient; Twilio 400 (invalid number) is not', async () => {
    status = 503;
    const unavailable = await caught(() => twilioClient().messages.create({ to: '+15005550006', from: '+15005550001', body: 'hi' }));
    expect(httpStatusOf(unavailable)).toBe(503);
    expect(isTransientError(unavailable)).toBe(true);
    status = 400;
    const invalid = await caught(() => twilioClient().messages.create({ to: '+1', from: '+15005550001', body: 'hi' }));
    expect(httpStatusOf(invalid)).toBe(400);
    expect(isTransientError(invalid)).toBe(false);
    expect(classifyError(invalid)).toBe('caller'); // the real SDK's RestException, code 21211
    expect(classifyError(unavailable)).toBe('transient');
  });

  it("Slack's rate-limit error is transient and carries Retry-After", async () => {
    const { server, url } = await listen((req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
    });
    const client = new WebClient('xoxb-test', {
      slackApiUrl: `${url}/api/`,
      rejectRateLimitedCalls: true,
      retryConfig: retryPolicies.fiveRetriesInFiveMinutes,
    });
    const error = await caught(() => client.chat.postMessage({ channel: 'C1', text: 'hi' }));
    expect(retryAfterMs(error)).toBe(7000);
    expect(isTransientError(error)).toBe(true);
    server.close();
  });

  it('Retry-After parsing: seconds and HTTP dates, on plain objects and Headers', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter(new Date(Date.now() + 30_000).toUTCString())).toBeGreaterThan(28_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(retryAfterMs({ response: { headers: new Headers({ 'Retry-After': '3' }) } })).toBe(3000);
    expect(isTransientHttpError({ statusCode: 502 })).toBe(true);
    expect(isTransientHttpError({ status: 404 })).toBe(false);
  });
});

describe.skipIf(!pgUp)('PostgreSQL errors (node-postgres, real server)', () => {
  const connect = async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    client.on('error', () => {});
    await client.connect();
    return client;
  };

  it('connection refused is transient', async () => {
    const port = await freePort();
    const client = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${port}/test` });
    const error = await caught(() => client.connect());
    expect(isTransientError(error)).toBe(true);
  });

  it('a terminated backend (57P01) and the lost connection are transient', async () => {
    const victim = await connect();
    const killer = await connect();
    const { rows } = await victim.query<{ pid: number }>('select pg_backend_pid() as pid');
    const pending = caught(() => victim.query('select pg_sleep(5)'));
    await new Promise((r) => setTimeout(r, 100));
    await killer.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
    const error = await pending;
    expect((error as { code?: string }).code).toBe('57P01');
    expect(isTransientPostgresError(error)).toBe(true);
    const after = await caught(() => victim.query('select 1'));
    expect(isTransientPostgresError(after)).toBe(true);
    await killer.end();
  });

  it('a deadlock (40P01) is transient', async () => {
    const setup = await connect();
    const table = `deadlock_${process.pid}_${Date.now()}`;
    await setup.query(`create table ${table} (id int primary key, v int)`);
    await setup.query(`insert into ${table} values (1, 0), (2, 0)`);
    const [a, b] = [await connect(), await connect()];
    await a.query('begin');
    await b.query('begin');
    await a.query(`update ${table} set v = 1 where id = 1`);
    await b.query(`update ${table} set v = 1 where id = 2`);
    const results = await Promise.allSettled([a.query(`update ${table} set v = 2 where id = 2`), b.query(`update ${table} set v = 2 where id = 1`)]);
    const failure = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(failure.reason.code).toBe('40P01');
    expect(isTransientError(failure.reason)).toBe(true);
    await a.query('rollback');
    await b.query('rollback');
    await setup.query(`drop table ${table}`);
    await Promise.all([a.end(), b.end(), setup.end()]);
  });

  it('lock timeout (55P03) is transient; a unique violation (23505) and a syntax error are not', async () => {
    const setup = await connect();
    const table = `locks_${process.pid}_${Date.now()}`;
    await setup.query(`create table ${table} (id int primary key)`);
    await setup.query(`insert into ${table} values (1)`);
    const [a, b] = [await connect(), await connect()];
    await a.query('begin');
    await a.query(`select * from ${table} where id = 1 for update`);
    await b.query('begin');
    await b.query(`set local lock_timeout = '100ms'`);
    const lockError = await caught(() => b.query(`select * from ${table} where id = 1 for update`));
    expect((lockError as { code?: string }).code).toBe('55P03');
    expect(isTransientError(lockError)).toBe(true);
    await b.query('rollback');
    await a.query('rollback');
    const unique = await caught(() => setup.query(`insert into ${table} values (1)`));
    expect((unique as { code?: string }).code).toBe('23505');
    expect(isTransientError(unique)).toBe(false);
    const syntax = await caught(() => setup.query('selec 1'));
    expect(isTransientError(syntax)).toBe(false);
    await setup.query(`drop table ${table}`);
    await Promise.all([a.end(), b.end(), setup.end()]);
  });

  it('Prisma codes: P1001 and friends are transient, P2002 is not', () => {
    for (const code of ['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2034']) expect(isTransientPrismaError({ code })).toBe(true);
    expect(isTransientPrismaError({ code: 'P2002' })).toBe(false);
    // Prisma's driver adapters report the database's own SQLSTATE as `originalCode`.
    expect(isTransientPrismaError({ code: 'P2010', meta: {}, cause: { originalCode: '40001' } })).toBe(true);
  });
});

describe.skipIf(!redisUp)('Redis errors (ioredis, real server)', () => {
  it('a closed connection and a dead server are transient', async () => {
    const port = await freePort();
    const dead = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    dead.on('error', () => {});
    const refused = await caught(() => dead.connect());
    expect(isTransientError(refused)).toBe(true);
    const live = new Redis(redisUrl);
    await live.ping();
    live.disconnect();
    const closed = await caught(() => live.get('x'));
    expect(isTransientRedisError(closed)).toBe(true);
  });

  it('a wrong-type reply is not transient', async () => {
    const client = new Redis(redisUrl);
    const key = `classifier:${process.pid}:${Date.now()}`;
    await client.set(key, 'v', 'EX', 60);
    const wrongType = await caught(() => client.lpush(key, 'x'));
    expect(isTransientError(wrongType)).toBe(false);
    await client.del(key);
    client.disconnect();
  });
});
