import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger, fakeClock, listen } from '../test/support.js';
import { createHealthRouter } from './express-router.js';
import { defineCheck } from './health-check.js';
import { createHealthHandler } from './health-handler.js';
import { HealthMonitor } from './health-monitor.js';
import { RecoveryManager } from './recovery-manager.js';
import type { HealthCheckEntry, HealthResponseBody } from './health-response.js';

/** A health+json body with the check arrays indexable in assertions. */
type Body = Omit<HealthResponseBody, 'checks'> & { checks: Record<string, HealthCheckEntry[]> };

const adminToken = 'admin-token-0123456789abcdef';
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function serve(options: Parameters<typeof createHealthRouter>[0]) {
  const router = createHealthRouter({ logger: captureLogger(), ...options });
  const server = await listen(router);
  closers.push(server.close);
  return { ...server, router };
}

const dbCheck = (state: { up: boolean }) =>
  defineCheck(
    'postgres',
    () => {
      if (!state.up) throw new Error('connect ECONNREFUSED db.internal.example:5432');
      return { status: 'pass', observedValue: 1.2, observedUnit: 'ms' };
    },
    { measurement: 'responseTime', componentType: 'datastore' },
  );

describe('public probe bodies rendered once per result set', () => {
  it('the same cached results give the same body; a lifecycle change or a new result changes it at once', async () => {
    const state = { up: true };
    const handler = createHealthHandler({ checks: [dbCheck(state)], cacheMs: 60_000, maxStaleMs: 60_000, logger: captureLogger() });
    const ready = () => handler.handle({ method: 'GET', path: '/health/ready' });
    const first = (await ready())!;
    expect(first).toMatchObject({ status: 200, body: JSON.stringify({ status: 'pass', checks: { 'postgres:responseTime': [{ status: 'pass' }] } }) });
    expect((await ready())!.body).toBe(first.body);
    expect(Object.isFrozen(first.headers)).toBe(true);

    handler.monitor.markShuttingDown();
    const draining = (await ready())!;
    expect(draining.status).toBe(503);
    expect(JSON.parse(draining.body)).toEqual({ status: 'fail', output: 'shutting down', checks: { 'postgres:responseTime': [{ status: 'pass' }] } });

    state.up = false;
    const clock = fakeClock();
    const fresh = createHealthHandler({ checks: [dbCheck(state)], cacheMs: 1000, maxStaleMs: 1000, clock, logger: captureLogger() });
    expect((await fresh.handle({ method: 'GET', path: '/health/ready' }))!.status).toBe(503);
    state.up = true;
    clock.advance(10_000);
    expect((await fresh.handle({ method: 'GET', path: '/health/ready' }))!.status).toBe(200);
  });
});

describe('health endpoints over HTTP (plain node:http server)', () => {
  it('GET /health answers application/health+json per the IETF draft, 200 for pass, 503 for fail', async () => {
    const state = { up: true };
    const { url, router } = await serve({ checks: [dbCheck(state)], serviceId: 'sms', version: '1', releaseId: '1.2.3', cacheMs: 1 });
    let response = await fetch(`${url}/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/health+json');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ status: 'pass', checks: { 'postgres:responseTime': [{ status: 'pass' }] } });

    state.up = false;
    await router.monitor.refresh();
    response = await fetch(`${url}/health`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'fail', checks: { 'postgres:responseTime': [{ status: 'fail' }] } });
  });

  it('the public answer is status and check names only; the admin token unlocks details, uptime and identity', async () => {
    const state = { up: false };
    const { url } = await serve({ checks: [dbCheck(state)], serviceId: 'sms', version: '1', releaseId: '1.2.3', adminToken });
    const publicBody = await (await fetch(`${url}/health`)).text();
    expect(publicBody).not.toContain('db.internal');
    expect(publicBody).not.toContain('ECONNREFUSED');
    expect(publicBody).not.toContain('1.2.3');
    expect(JSON.parse(publicBody)).toEqual({ status: 'fail', checks: { 'postgres:responseTime': [{ status: 'fail' }] } });

    const response = await fetch(`${url}/health`, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(response.status).toBe(503);
    const body = (await response.json()) as Body;
    expect(body).toMatchObject({ status: 'fail', serviceId: 'sms', version: '1', releaseId: '1.2.3' });
    expect(body.checks['postgres:responseTime']![0]).toMatchObject({
      componentType: 'datastore',
      status: 'fail',
      output: 'connect ECONNREFUSED db.internal.example:5432',
    });
    expect(Date.parse(body.checks['postgres:responseTime']![0]!.time!)).not.toBeNaN();
    expect(body.checks.uptime![0]).toMatchObject({ componentType: 'system', observedUnit: 's', status: 'pass' });
  });

  it('details show latency as observedValue in ms for admins', async () => {
    const { url } = await serve({ checks: [dbCheck({ up: true })], adminToken });
    const body = (await (await fetch(`${url}/health`, { headers: { authorization: `bearer ${adminToken}` } })).json()) as Body;
    expect(body.checks['postgres:responseTime']![0]).toMatchObject({ observedValue: 1.2, observedUnit: 'ms', status: 'pass' });
  });

  it('a wrong or malformed token on a public probe is ignored: the public answer, never a 401, never the details', async () => {
    const { url } = await serve({ checks: [dbCheck({ up: false })], adminToken, waitForStartup: false });
    for (const header of [`Bearer ${adminToken}x`, 'Bearer short', `Basic ${adminToken}`, adminToken, 'Bearer', 'Bearer %00']) {
      for (const path of ['/health', '/health/live', '/health/ready', '/health/startup']) {
        const response = await fetch(`${url}${path}`, { headers: { authorization: header } });
        expect([200, 503], `${path} with ${header}`).toContain(response.status);
        expect(response.headers.get('content-type')).toBe('application/health+json');
        const text = await response.text();
        expect(text).not.toContain('ECONNREFUSED');
        expect(text).not.toContain('uptime');
      }
    }
    expect((await fetch(`${url}/health/live`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(200);
  });

  it('several admin tokens can be valid at once (rotation)', async () => {
    const next = 'next-admin-token-abcdef0123456789';
    const { url } = await serve({ checks: [dbCheck({ up: true })], adminToken: [adminToken, next] });
    for (const token of [adminToken, next]) {
      const body = (await (await fetch(`${url}/health`, { headers: { authorization: `Bearer ${token}` } })).json()) as Body;
      expect(body.checks.uptime).toBeDefined();
    }
  });

  it('exposeDetails shows details without a token', async () => {
    const { url } = await serve({ checks: [dbCheck({ up: false })], exposeDetails: true });
    const body = (await (await fetch(`${url}/health`)).json()) as Body;
    expect(body.checks['postgres:responseTime']![0]!.output).toContain('ECONNREFUSED');
  });

  it('/health/live never runs dependency checks: 200 while the database is down; /health/ready is 503', async () => {
    let runs = 0;
    const failing = defineCheck('postgres', () => {
      runs++;
      throw new Error('down');
    });
    const { url } = await serve({ checks: [failing] });
    const live = await fetch(`${url}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'pass', checks: {} });
    expect(runs).toBe(0);
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'fail', checks: { postgres: [{ status: 'fail' }] } });
  });

  it('/health/startup passes once started; readiness says "starting" until then', async () => {
    const { url, router } = await serve({ waitForStartup: true });
    expect((await fetch(`${url}/health/startup`)).status).toBe(503);
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'fail', output: 'starting', checks: {} });
    router.monitor.markStarted();
    expect((await fetch(`${url}/health/startup`)).status).toBe(200);
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);
  });

  it('a check that hangs forever: /health still answers within its budget, with that check failed', async () => {
    const hung = defineCheck('postgres', () => new Promise(() => {}), { measurement: 'responseTime' });
    const ok = defineCheck('redis', () => true);
    const { url } = await serve({ checks: [hung, ok], timeoutMs: 1000, adminToken });
    const started = performance.now();
    const response = await fetch(`${url}/health`, { headers: { authorization: `Bearer ${adminToken}` } });
    const elapsed = performance.now() - started;
    expect(response.status).toBe(503);
    const body = (await response.json()) as Body;
    expect(body.checks['postgres:responseTime']![0]).toMatchObject({ status: 'fail', output: 'timed out after 1000 ms' });
    expect(body.checks.redis![0]!.status).toBe('pass');
    // Budget: the check's timeout plus HTTP overhead; generous margin for a loaded machine.
    expect(elapsed).toBeGreaterThanOrEqual(990);
    expect(elapsed).toBeLessThan(5000);
    // The next answer comes from the cache, not after another 1 s wait.
    const again = performance.now();
    expect((await fetch(`${url}/health/ready`)).status).toBe(503);
    expect(performance.now() - again).toBeLessThan(900);
  });

  it('a probe storm of 300 concurrent requests costs the database one query', async () => {
    let queries = 0;
    const db = defineCheck('postgres', async () => {
      queries++;
      await new Promise((r) => setTimeout(r, 50));
    });
    const { url } = await serve({ checks: [db], cacheMs: 60_000, maxStaleMs: 60_000 });
    const statuses = await Promise.all(Array.from({ length: 300 }, () => fetch(`${url}/health/ready`).then((r) => r.status)));
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(queries).toBe(1);
  });

  it('HEAD answers with the status and no body; other methods get 405 with Allow', async () => {
    const { url } = await serve({ checks: [dbCheck({ up: false })] });
    const head = await fetch(`${url}/health/ready`, { method: 'HEAD' });
    expect(head.status).toBe(503);
    expect(await head.text()).toBe('');
    const post = await fetch(`${url}/health/ready`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('paths that are not ours get 404 from the plain handler; a trailing slash is accepted', async () => {
    const { url } = await serve({});
    expect((await fetch(`${url}/other`)).status).toBe(404);
    expect((await fetch(`${url}/health/livex`)).status).toBe(404);
    expect((await fetch(`${url}/health/live/`)).status).toBe(200);
    expect((await fetch(`${url}/health/live?verbose=1`)).status).toBe(200);
  });

  it('basePath moves the endpoints', async () => {
    const { url } = await serve({ basePath: '/ops/healthz' });
    expect((await fetch(`${url}/ops/healthz/ready`)).status).toBe(200);
    expect((await fetch(`${url}/ops/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/health/ready`)).status).toBe(404);
  });

  it('a check that returns a malformed outcome fails instead of crashing the endpoint', async () => {
    const { url } = await serve({ checks: [defineCheck('weird', () => ({ status: 'okay' }) as never)] });
    expect((await fetch(`${url}/health`)).status).toBe(503);
  });
});

describe('createHealthHandler', () => {
  it('works framework-free through handle() and the Web fetch() adapter', async () => {
    const health = createHealthHandler({ checks: [defineCheck('db', () => 'warn')], logger: captureLogger() });
    const answer = await health.handle({ method: 'GET', path: '/health' });
    expect(answer).toMatchObject({ status: 200, headers: { 'content-type': 'application/health+json' } });
    expect(JSON.parse(answer!.body)).toEqual({ status: 'warn', checks: { db: [{ status: 'warn' }] } });
    expect(await health.handle({ method: 'GET', path: '/elsewhere' })).toBeUndefined();

    const response = await health.fetch(new Request('http://localhost/health/ready'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/health+json');
    expect((await health.fetch(new Request('http://localhost/nope'))).status).toBe(404);
  });

  it('the fetch() adapter serves the recovery endpoint with a JSON body and the bearer token', async () => {
    const ran: string[] = [];
    const recovery = new RecoveryManager({ actions: { db: () => void ran.push('db') }, logger: captureLogger() });
    const health = createHealthHandler({ recovery, recoveryToken: 'recovery-token-0123456789', logger: captureLogger() });
    const denied = await health.fetch(new Request('http://localhost/health/recover', { method: 'POST', body: '{"service":"db"}' }));
    expect(denied.status).toBe(401);
    const ok = await health.fetch(
      new Request('http://localhost/health/recover', {
        method: 'POST',
        headers: { authorization: 'Bearer recovery-token-0123456789', 'content-type': 'application/json' },
        body: JSON.stringify({ service: 'db' }),
      }),
    );
    expect(ok.status).toBe(200);
    expect(ran).toEqual(['db']);
  });

  it('shares an existing monitor, and refuses a monitor mixed with monitor options', () => {
    const monitor = new HealthMonitor({ logger: captureLogger() });
    expect(createHealthHandler({ monitor }).monitor).toBe(monitor);
    expect(() => createHealthHandler({ monitor, checks: [] })).toThrow('Expected either `monitor` or monitor options, not both');
  });

  it('rejects bad options with clear TypeErrors', () => {
    expect(() => createHealthHandler({ basePath: 'health' })).toThrow('Expected `basePath`');
    expect(() => createHealthHandler({ basePath: '/health/' })).toThrow('Expected `basePath`');
    expect(() => createHealthHandler({ adminToken: 'changeme' })).toThrow('Expected `adminToken` to be at least 16 characters');
    expect(() => createHealthHandler({ adminToken: [] })).toThrow('Expected `adminToken` to be a string or a non-empty array');
  });

  it('refuses to mount recovery without a token', () => {
    const recovery = new RecoveryManager({ actions: { db: () => {} }, logger: captureLogger() });
    expect(() => createHealthHandler({ recovery, logger: captureLogger() })).toThrow('refusing to mount POST /recover without a token');
    expect(() => createHealthHandler({ recovery, recoveryToken: 'short' })).toThrow('Expected `recoveryToken` to be at least 16 characters');
  });

  it('an exception inside the monitor becomes a logged 500 problem, not a hung request', async () => {
    const logger = captureLogger();
    const monitor = new HealthMonitor({ logger });
    monitor.report = () => Promise.reject(new Error('bug'));
    const health = createHealthHandler({ monitor, logger });
    const answer = await health.handle({ method: 'GET', path: '/health' });
    expect(answer?.status).toBe(500);
    expect(answer?.headers['content-type']).toBe('application/problem+json');
    expect(logger.text()).toContain('health: endpoint failed');
  });
});
