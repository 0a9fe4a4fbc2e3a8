// Security over real HTTP on the embedded default (limits in memory): CORS allow-list with
// webhooks exempt, body size limits (413), the per-IP public limit (webhooks and health
// exempt), the admin limit keyed on the token, and trust proxy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemOf, startTestApp, testAdminToken, type TestApp } from '../support/http-app.js';

const origin = 'https://dashboard.example.com';
const bearer = { authorization: `Bearer ${testAdminToken}` };

describe('CORS, body limits, trust proxy off', () => {
  let app: TestApp;
  beforeAll(async () => {
    // TRUST_PROXY unset (0); the public limit is only reached by the last test.
    app = await startTestApp({ CORS_ORIGINS: `${origin}, https://ops.example.com`, RATE_LIMIT_PUBLIC_MAX: '2' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers allowed origins with CORS headers, and others without', async () => {
    const allowed = await app.request('/api/admin/circuit-breakers', { headers: { ...bearer, origin } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(origin);
    expect(allowed.headers.get('access-control-expose-headers')).toContain('ETag');
    expect(allowed.headers.get('vary')).toMatch(/origin/i);

    const other = await app.request('/api/admin/circuit-breakers', { headers: { ...bearer, origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const none = await app.request('/api/admin/circuit-breakers', { headers: bearer });
    expect(none.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers preflights for allowed origins (Authorization allowed) and not for others', async () => {
    const preflight = (from: string) =>
      app.request('/api/admin/numbers', {
        method: 'OPTIONS',
        headers: { origin: from, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    const ok = await preflight(origin);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(origin);
    expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(ok.headers.get('access-control-allow-methods')).toContain('POST');
    const refused = await preflight('https://evil.example');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(refused.headers.get('access-control-allow-headers')).toBeNull();
  });

  it('leaves webhooks out of CORS', async () => {
    for (const path of ['/sms', '/api/twilio/status', '/slack/events', '/webhooks/stripe']) {
      const response = await app.request(path, { method: 'POST', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b' });
      expect(response.status).toBe(403); // unsigned
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('answers 413 problem+json for JSON bodies over 100 kB, and accepts ones under it', async () => {
    const big = JSON.stringify({ numbers: ['+15554000001'], padding: 'x'.repeat(150_000) });
    const tooLarge = await app.request('/api/admin/numbers', { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: big });
    const problem = await problemOf(tooLarge);
    expect([problem.status, problem.title]).toEqual([413, 'Payload too large']);

    const fits = JSON.stringify({ numbers: ['+15554000001'], padding: 'x'.repeat(90_000) });
    const ok = await problemOf(
      await app.request('/api/admin/numbers', { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: fits }),
    );
    expect([ok.status, ok['invalid-params']?.[0]?.name]).toEqual([400, 'padding']); // parsed, then refused by the strict schema
    expect(await app.ctx.db.prisma.poolNumber.count({ where: { phoneNumber: '+15554000001' } })).toBe(0);
  });

  it('answers 413 problem+json for oversized webhook forms too (before any processing)', async () => {
    const response = await app.request('/sms', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `Body=${'x'.repeat(100_000)}`,
    });
    expect((await problemOf(response)).status).toBe(413);
    expect(await app.ctx.db.prisma.inboundEvent.count()).toBe(0);
  });

  it('sets security headers (helmet) on everything but the provider webhooks, whose answers no browser renders', async () => {
    const response = await app.request('/health/live');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('x-powered-by')).toBeNull();
    const webhook = await app.request('/sms', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Body=hi' });
    expect(webhook.status).toBe(403);
    expect(webhook.headers.get('content-security-policy')).toBeNull();
    expect(webhook.headers.get('x-powered-by')).toBeNull();
  });

  it('ignores X-Forwarded-For, so a client cannot buy itself a new budget by spoofing it', async () => {
    for (let i = 0; i < 2; i++) expect((await app.request('/x', { headers: { 'x-forwarded-for': `198.51.100.${i}` } })).status).toBe(404);
    expect((await app.request('/x', { headers: { 'x-forwarded-for': '198.51.100.99' } })).status).toBe(429);
  });
});

describe('public rate limit per IP', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ RATE_LIMIT_PUBLIC_MAX: '3', TRUST_PROXY: '1' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('allows RATE_LIMIT_PUBLIC_MAX requests per window, then 429 problem+json with Retry-After', async () => {
    const from = { 'x-forwarded-for': '203.0.113.10' };
    for (let i = 0; i < 3; i++) {
      const response = await app.request('/api/public-thing', { headers: from });
      expect(response.status).toBe(404);
      expect(response.headers.get('ratelimit')).toMatch(new RegExp(`remaining=${2 - i}`));
    }
    const limited = await app.request('/api/public-thing', { headers: from });
    const problem = await problemOf(limited);
    expect([problem.status, problem.title]).toEqual([429, 'Too many requests']);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    // Another client (behind the trusted proxy) has its own budget.
    expect((await app.request('/api/public-thing', { headers: { 'x-forwarded-for': '203.0.113.11' } })).status).toBe(404);
  });

  it('exempts webhooks (signatures still checked) and health probes', async () => {
    const from = { 'x-forwarded-for': '203.0.113.20' };
    for (let i = 0; i < 3; i++) await app.request('/nothing-here', { headers: from });
    expect((await app.request('/nothing-here', { headers: from })).status).toBe(429);
    for (let i = 0; i < 6; i++) {
      const webhook = await app.request('/sms', {
        method: 'POST',
        headers: { ...from, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'MessageSid=SM1',
      });
      expect(webhook.status).toBe(403);
      expect((await app.request('/health/live', { headers: from })).status).toBe(200);
    }
  });

  it('does not count admin requests against the public limit', async () => {
    const from = { 'x-forwarded-for': '203.0.113.30' };
    for (let i = 0; i < 5; i++) expect((await app.request('/api/admin/circuit-breakers', { headers: { ...from, ...bearer } })).status).toBe(200);
    expect((await app.request('/other', { headers: from })).status).toBe(404);
  });
});

describe('admin rate limit', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ RATE_LIMIT_ADMIN_MAX: '4', TRUST_PROXY: '1' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('is keyed on the token, not the IP: one budget for the client wherever it calls from', async () => {
    for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4']) {
      expect((await app.request('/api/admin/circuit-breakers', { headers: { ...bearer, 'x-forwarded-for': ip } })).status).toBe(200);
    }
    const limited = await app.request('/metrics', { headers: { ...bearer, 'x-forwarded-for': '192.0.2.5' } });
    expect((await problemOf(limited)).status).toBe(429);
    expect(limited.headers.get('retry-after')).not.toBeNull();
  });

  it('limits wrong tokens per IP, so guessing is throttled too', async () => {
    const from = { 'x-forwarded-for': '192.0.2.50' };
    for (let i = 0; i < 4; i++) {
      expect((await app.request('/api/admin/outbox', { headers: { ...from, authorization: `Bearer guess-${i}-000000000000000000000` } })).status).toBe(401);
    }
    expect((await app.request('/api/admin/outbox', { headers: { ...from, authorization: 'Bearer guess-5-000000000000000000000' } })).status).toBe(429);
    // Another IP guessing has its own budget.
    expect((await app.request('/api/admin/outbox', { headers: { 'x-forwarded-for': '192.0.2.51' } })).status).toBe(401);
  });
});
