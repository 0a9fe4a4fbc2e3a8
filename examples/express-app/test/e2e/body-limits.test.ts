// Every route has a body limit before anything buffers a body: a large unauthenticated POST
// is refused (413 problem+json, or 403 where the signature check needs no body) after the
// server has read a bounded number of bytes, and nothing is written or sent.
import { postLargeBody, requirePostgres, requireRedis } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowCounts } from './support/db-inspect.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const postgresUp = await requirePostgres();
const redisUp = await requireRedis();
const up = postgresUp && redisUp;
const MB = 1024 * 1024;

describe.skipIf(!up)('body limits on every route (postgres+redis)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ spec: { backend: 'postgres', redis: true }, label: 'bodylimits' });
  });
  afterAll(async () => app?.close());

  it('POST /api/twilio/alert-status with 200 MB of text/plain, chunked: 413 after reading under 1 MB', async () => {
    const before = await rowCounts(app.ctx.db);
    const reply = await postLargeBody(app.server, `${app.url}/api/twilio/alert-status`, 200 * MB, {
      declareLength: false,
      contentType: 'text/plain',
      headers: { 'x-twilio-signature': 'forged' },
    });
    expect(reply.status, reply.body).toBe(413);
    expect(reply.contentType).toMatch(/^application\/problem\+json/);
    expect(reply.serverBytesRead).toBeGreaterThan(0);
    expect(reply.serverBytesRead).toBeLessThan(1 * MB);
    expect(await rowCounts(app.ctx.db)).toEqual(before);
  });

  const routes = [
    '/sms',
    '/api/twilio/status',
    '/api/twilio/message-status?outboxId=x',
    '/api/twilio/alert-status',
    '/slack/events',
    '/webhooks/stripe',
    '/api/admin/numbers',
    '/automations/replay/x',
    '/nowhere',
  ];

  it.each(routes)('POST %s declaring 200 MB: 413 problem+json before a byte of the body is read', async (path) => {
    const reply = await postLargeBody(app.server, `${app.url}${path}`, 200 * MB, { declareLength: true, contentType: 'application/x-www-form-urlencoded' });
    expect(reply.status, reply.body).toBe(413);
    expect(reply.contentType).toMatch(/^application\/problem\+json/);
    expect(reply.serverBytesRead).toBeLessThan(1 * MB);
  });

  it.each(routes)('POST %s with 4 MB chunked (no length declared): refused, never processed', async (path) => {
    const before = await rowCounts(app.ctx.db);
    for (const contentType of ['application/x-www-form-urlencoded', 'application/json', 'application/octet-stream']) {
      const reply = await postLargeBody(app.server, `${app.url}${path}`, 4 * MB, { declareLength: false, contentType });
      expect([401, 403, 404, 413], `${contentType}: ${reply.body}`).toContain(reply.status);
      expect(reply.contentType).toMatch(/^application\/problem\+json/);
    }
    expect(await rowCounts(app.ctx.db)).toEqual(before);
    expect(app.providers.twilio.messages).toEqual([]);
  });
});
