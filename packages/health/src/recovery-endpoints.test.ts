import express from 'express';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureLogger, fakeClock } from '../test/support.js';
import { createHealthRouter } from './express-router.js';
import { RecoveryManager, type RecoveryStats } from './recovery-manager.js';

const token = 'recovery-token-0123456789abcdef';
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function start(
  recovery: RecoveryManager,
  options: {
    bodyParser?: boolean;
    recoveryToken?: string | undefined;
    adminToken?: string;
    clock?: { now(): number };
    logger?: ReturnType<typeof captureLogger>;
  } = {},
) {
  const { bodyParser = true, adminToken, clock, logger = captureLogger() } = options;
  const recoveryToken = 'recoveryToken' in options ? options.recoveryToken : token;
  const app = express();
  // X-Forwarded-For stands for distinct client IPs in the wrong-token limit test.
  app.set('trust proxy', true);
  if (bodyParser) app.use(express.json());
  app.use(createHealthRouter({ recovery, recoveryToken, adminToken, logger, ...(clock === undefined ? {} : { clock }) }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** `auth: null` sends no Authorization header. */
function post(url: string, body: unknown, auth: string | null = `Bearer ${token}`, contentType = 'application/json') {
  return fetch(`${url}/health/recover`, {
    method: 'POST',
    headers: { ...(auth === null ? {} : { authorization: auth }), 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function manager(actions: Record<string, () => unknown>, clock = fakeClock()) {
  return { clock, recovery: new RecoveryManager({ actions, clock, logger: captureLogger() }) };
}

describe('POST /health/recover and GET /health/recovery-stats', () => {
  it('unauthorised -> 401 (no token, wrong token, wrong scheme) and the action does not run', async () => {
    let runs = 0;
    const { recovery } = manager({ postgres: () => runs++ });
    const url = await start(recovery);
    for (const auth of [null, `Bearer ${token}-nope`, `Basic ${token}`]) {
      const response = await post(url, { service: 'postgres' }, auth);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="health"');
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    }
    expect((await fetch(`${url}/health/recovery-stats`)).status).toBe(401);
    expect(runs).toBe(0);
  });

  it('wrong tokens: after 10 from one IP, recover and recovery-stats answer 429 with Retry-After (even to the right token) until the window passes; other IPs unaffected', async () => {
    let runs = 0;
    const clock = fakeClock();
    const logger = captureLogger();
    const { recovery } = manager({ postgres: () => runs++ }, clock);
    const url = await start(recovery, { clock, logger, adminToken: 'admin-token-0123456789abcdef' });
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    const attempt = (ip: string, auth: string) =>
      fetch(`${url}/health/recover`, {
        method: 'POST',
        headers: { ...from(ip), authorization: auth, 'content-type': 'application/json' },
        body: '{"service":"postgres"}',
      });
    for (let i = 0; i < 10; i++) expect((await attempt('203.0.113.7', `Bearer guess-${i}-0123456789abcdef`)).status).toBe(401);
    const limited = await attempt('203.0.113.7', `Bearer ${token}`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toBe('application/problem+json');
    expect(limited.headers.get('retry-after')).toBe('900');
    const stats = await fetch(`${url}/health/recovery-stats`, { headers: { ...from('203.0.113.7'), authorization: `Bearer ${token}` } });
    expect(stats.status).toBe(429);
    // The probes stay up for that client, and its token no longer unlocks details.
    const probe = await fetch(`${url}/health`, { headers: { ...from('203.0.113.7'), authorization: 'Bearer admin-token-0123456789abcdef' } });
    expect(probe.status).toBe(200);
    expect(await probe.text()).not.toContain('uptime');
    expect(runs).toBe(0);
    expect(logger.lines.some((l) => JSON.stringify(l).includes('health.auth_limited'))).toBe(true);

    // Another client is not limited.
    expect((await attempt('198.51.100.2', `Bearer ${token}`)).status).toBe(200);
    expect(runs).toBe(1);

    clock.advance(899_000);
    expect((await attempt('203.0.113.7', `Bearer ${token}`)).headers.get('retry-after')).toBe('1');
    clock.advance(1000);
    const stats2 = await fetch(`${url}/health/recovery-stats`, { headers: { ...from('203.0.113.7'), authorization: `Bearer ${token}` } });
    expect(stats2.status).toBe(200);
  });

  it('wrong tokens on the public probes count too: they cannot be an unlimited token oracle', async () => {
    const clock = fakeClock();
    const { recovery } = manager({ postgres: () => undefined }, clock);
    const url = await start(recovery, { clock, adminToken: 'admin-token-0123456789abcdef' });
    for (let i = 0; i < 10; i++) {
      const probe = await fetch(`${url}/health`, { headers: { 'x-forwarded-for': '203.0.113.9', authorization: `Bearer guess-${i}-0123456789abcdef` } });
      expect(probe.status).toBe(200);
    }
    const right = await fetch(`${url}/health`, { headers: { 'x-forwarded-for': '203.0.113.9', authorization: 'Bearer admin-token-0123456789abcdef' } });
    expect(await right.text()).not.toContain('uptime');
    expect((await fetch(`${url}/health/recovery-stats`, { headers: { 'x-forwarded-for': '203.0.113.9', authorization: `Bearer ${token}` } })).status).toBe(429);
  });

  it('runs the action, then the cooldown answers 429 with Retry-After; success and failure land in the stats', async () => {
    let fail = false;
    const { recovery, clock } = manager({
      postgres: () => {
        if (fail) throw new Error('reconnect failed: password authentication failed for user "app" (Bearer abcdefghijklmnopq)');
      },
    });
    const url = await start(recovery);

    const ok = await post(url, { service: 'postgres' });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { result: unknown }).result).toMatchObject({ service: 'postgres', trigger: 'manual', outcome: 'succeeded' });

    const limited = await post(url, { service: 'postgres' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('300');
    expect(limited.headers.get('content-type')).toBe('application/problem+json');
    expect(await limited.json()).toMatchObject({ status: 429, reason: 'cooldown', retryAfterSeconds: 300 });

    clock.advance(200_000);
    const later = await post(url, { service: 'postgres' });
    expect(later.headers.get('retry-after')).toBe('100');

    clock.advance(100_000);
    fail = true;
    const failed = await post(url, { service: 'postgres' });
    expect(failed.status).toBe(500);
    const failedBody = (await failed.json()) as { result: { outcome: string; error: string } };
    expect(failedBody.result.outcome).toBe('failed');
    expect(failedBody.result.error).toContain('reconnect failed');
    expect(failedBody.result.error).not.toContain('abcdefghijklmnopq');

    const stats = await fetch(`${url}/health/recovery-stats`, { headers: { authorization: `Bearer ${token}` } });
    expect(stats.status).toBe(200);
    const body = (await stats.json()) as RecoveryStats;
    expect(body).toMatchObject({ attempts: 2, successes: 1, failures: 1, successRate: 0.5 });
    expect(body.services.postgres).toMatchObject({ attempts: 2, successes: 1, failures: 1, inProgress: false });
    expect(body.recent.map((a) => a.outcome)).toEqual(['failed', 'succeeded']);
    expect(body.recent[0]).toMatchObject({ service: 'postgres', trigger: 'manual' });
    expect(typeof body.recent[0]!.durationMs).toBe('number');
    expect(body.recent[0]!.error).toContain('reconnect failed');
  });

  it('the hourly limit answers 429 once maxPerHour attempts ran, until the oldest leaves the hour', async () => {
    const clock = fakeClock();
    const recovery = new RecoveryManager({ actions: { worker: () => {} }, cooldownMs: 60_000, maxPerHour: 2, clock, logger: captureLogger() });
    const url = await start(recovery);
    expect((await post(url, { service: 'worker' })).status).toBe(200);
    clock.advance(60_000);
    expect((await post(url, { service: 'worker' })).status).toBe(200);
    clock.advance(60_000);
    const limited = await post(url, { service: 'worker' });
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ reason: 'hourly-limit' });
    expect(limited.headers.get('retry-after')).toBe(String(3600 - 120));
    clock.advance(3600_000 - 120_000);
    expect((await post(url, { service: 'worker' })).status).toBe(200);
  });

  it('"all" runs every service allowed now and reports the refused ones', async () => {
    const ran: string[] = [];
    const { recovery } = manager({ postgres: () => ran.push('postgres'), redis: () => ran.push('redis') });
    const url = await start(recovery);
    await post(url, { service: 'redis' });
    const response = await post(url, { service: 'all' });
    expect(response.status).toBe(200);
    const { results } = (await response.json()) as { results: Array<Record<string, unknown>> };
    expect(results).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ service: 'postgres', outcome: 'succeeded' }),
        expect.objectContaining({ service: 'redis', outcome: 'refused', reason: 'cooldown' }),
      ]),
    );
    const again = await post(url, { service: 'all' });
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(ran.sort()).toEqual(['postgres', 'redis']);
  });

  it('unknown service -> 404 listing the known ones; no service -> 400; GET -> 405', async () => {
    const { recovery } = manager({ postgres: () => {} });
    const url = await start(recovery);
    const unknown = await post(url, { service: 'mongo' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ services: ['postgres'] });
    expect((await post(url, {})).status).toBe(400);
    expect((await post(url, '{not json')).status).toBe(400);
    const get = await fetch(`${url}/health/recover`, { headers: { authorization: `Bearer ${token}` } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('works without a body parser (reads the body itself), with a form body, and with ?service=', async () => {
    const ran: string[] = [];
    const clock = fakeClock();
    const recovery = new RecoveryManager({
      actions: { a: () => ran.push('a'), b: () => ran.push('b'), c: () => ran.push('c') },
      clock,
      logger: captureLogger(),
    });
    const url = await start(recovery, { bodyParser: false });
    expect((await post(url, { service: 'a' })).status).toBe(200);
    expect((await post(url, 'service=b', `Bearer ${token}`, 'application/x-www-form-urlencoded')).status).toBe(200);
    const viaQuery = await fetch(`${url}/health/recover?service=c`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(viaQuery.status).toBe(200);
    expect(ran).toEqual(['a', 'b', 'c']);
  });

  it('a concurrent second request while the action runs is refused (409), never run twice', async () => {
    let release!: () => void;
    let runs = 0;
    const recovery = new RecoveryManager({
      actions: {
        worker: () => {
          runs++;
          return new Promise<void>((r) => (release = r));
        },
      },
      cooldownMs: 0,
      logger: captureLogger(),
    });
    const url = await start(recovery);
    const first = post(url, { service: 'worker' });
    await vi.waitFor(() => expect(runs).toBe(1), { timeout: 10_000, interval: 5 }); // the first request's action is running
    const second = await post(url, { service: 'worker' });
    expect(second.status).toBe(409);
    release();
    expect((await first).status).toBe(200);
    expect(runs).toBe(1);
  });

  it('falls back to the admin token when no recovery token is set', async () => {
    const adminToken = 'admin-token-for-recovery-000000';
    const { recovery } = manager({ postgres: () => {} });
    const url = await start(recovery, { recoveryToken: undefined, adminToken });
    expect((await post(url, { service: 'postgres' }, `Bearer ${adminToken}`)).status).toBe(200);
  });
});
