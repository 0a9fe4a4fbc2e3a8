// Issue 11, "a 15 s database hang degraded service for 36 s": once PostgreSQL answers again,
// the `database` breaker lets a probe through within seconds and the app serves again, instead
// of refusing every query for the rest of a 30 s cooldown.
import { eventually, requirePostgres } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseBreaker } from '../../src/db/database.js';
import { texts } from '../../src/domain/messages.js';
import { startProxiedAppWithClient, type OnboardedClient } from './support/flows.js';
import { messageSid, phone } from './support/phones.js';
import type { TestApp } from './support/test-app.js';

const postgresUp = await requirePostgres();

describe.skipIf(!postgresUp)('database breaker recovery after a PostgreSQL hang (PostgreSQL behind a TCP proxy)', () => {
  let app: TestApp;
  let client: OnboardedClient;

  beforeAll(async () => {
    ({ app, client } = await startProxiedAppWithClient({ label: 'dbrecovery', redis: false, businessName: 'Prompt Pipes' }));
  }, 120_000);
  afterAll(async () => app?.close());

  it('the breaker opened by the hang probes again seconds after PostgreSQL is back, and SMS get their real reply again', async () => {
    const breaker = app.ctx.breakers.get('database');
    app.storage.proxy!.hang();
    let restoredAt = 0;
    try {
      // Traffic during the hang: more queries than the pool has connections, so some wait
      // for a connection until the pool's 5 s timeout and fail, until the breaker opens.
      const load = Array.from({ length: 24 }, () => app.ctx.db.prisma.poolNumber.count().catch(() => undefined));
      await eventually(() => breaker.state === 'open', 60_000, 100);
      void Promise.all(load); // the hung ones fail when the proxy drops their connections
    } finally {
      app.storage.proxy!.restore();
      restoredAt = Date.now();
    }
    // The app's own traffic (health checks, the jobs loop, webhooks) keeps querying.
    await eventually(
      async () => {
        try {
          await app.ctx.db.prisma.poolNumber.count();
          return true;
        } catch {
          return false;
        }
      },
      30_000,
      100,
    );
    const recoveredAfterMs = Date.now() - restoredAt;
    console.info(`database breaker recovered ${recoveredAfterMs} ms after PostgreSQL was back`);
    expect(breaker.state).toBe('closed');
    // Seconds, not the rest of a cooldown: 2 s, plus at most the half-open limit for a probe
    // that lands on a connection the hang left dead, plus margin for a loaded machine. (With
    // the default 30 s cooldown this measured 30 s.)
    expect(databaseBreaker.cooldownMs + databaseBreaker.maxHalfOpenWaitMs).toBeLessThanOrEqual(13_000);
    expect(recoveredAfterMs).toBeLessThan(15_000);
    const reply = await app.sms({ from: phone(), to: client.number, body: 'Are you open today?', messageSid: messageSid() });
    expect(reply.messages).toEqual([texts.customerAck('Prompt Pipes')]);
  }, 120_000);
});
