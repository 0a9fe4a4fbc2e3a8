// Two app instances sharing PostgreSQL and Redis, as behind a load balancer: the rate limits
// and the alert silences hold across both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUrl, requirePostgres, requireRedis, uniquePrefix, type TestDatabase } from '@hardening/test-support';
import { problemOf, startTestApp, testAdminToken, type TestApp } from '../support/http-app.js';
import { migratedPostgresDatabase } from '../support/databases.js';

const up = (await requireRedis()) && (await requirePostgres());

describe.skipIf(!up)('two instances sharing PostgreSQL + Redis', () => {
  let database: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    database = await migratedPostgresDatabase('shared_instances');
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: uniquePrefix('shared').replace(/:/g, '-'),
      RATE_LIMIT_PUBLIC_MAX: '4',
      RATE_LIMIT_ADMIN_MAX: '5',
    };
    a = await startTestApp(env);
    b = await startTestApp(env);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  it('share the per-IP public limit: the fifth request is refused whichever instance gets it', async () => {
    const statuses: number[] = [];
    for (const app of [a, b, a, b]) statuses.push((await app.request('/api/anything')).status);
    expect(statuses).toEqual([404, 404, 404, 404]);
    expect((await problemOf(await b.request('/api/anything'))).status).toBe(429);
    expect((await a.request('/api/anything')).status).toBe(429);
  });

  it('share the admin limit of the token', async () => {
    const bearer = { authorization: `Bearer ${testAdminToken}` };
    const statuses: number[] = [];
    for (const app of [a, b, a, b, a]) statuses.push((await app.request('/api/admin/circuit-breakers', { headers: bearer })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect((await b.request('/api/admin/outbox', { headers: bearer })).status).toBe(429);
  });

  it('share alert silences: created on one instance, they mute alerts on the other; deleted on the other, they end on both', async () => {
    // Alert dedup claims live in Redis too: resource ids of this run only.
    const run = uniquePrefix('r');
    const silence = await a.ctx.silences.create({ matcher: { type: ['SHARED_SILENCE_TEST'] }, until: new Date(Date.now() + 3_600_000), reason: 'maintenance' });
    // b picks it up at its next sync (every 5 s) or, as here, before listing.
    const listed = await b.ctx.silences.list();
    expect(listed.map((s) => s.id)).toContain(silence.id);
    expect(
      (await b.ctx.alerts.sendCriticalAlert({ type: 'SHARED_SILENCE_TEST', severity: 'HIGH', resourceId: `${run}-r1`, title: 't', message: 'm' })).status,
    ).toBe('silenced');

    expect(await b.ctx.silences.remove(silence.id)).toBe(true);
    expect(
      (await b.ctx.alerts.sendCriticalAlert({ type: 'SHARED_SILENCE_TEST', severity: 'HIGH', resourceId: `${run}-r2`, title: 't', message: 'm' })).status,
    ).toBe('delivered');
    await a.ctx.silences.sync();
    expect(
      (await a.ctx.alerts.sendCriticalAlert({ type: 'SHARED_SILENCE_TEST', severity: 'HIGH', resourceId: `${run}-r3`, title: 't', message: 'm' })).status,
    ).toBe('delivered');
    expect(await a.ctx.silences.list()).toEqual([]);
  });
});
