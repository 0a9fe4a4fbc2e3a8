// Issue 11, "missed-call fail-safe is one-shot and unguarded": every missed call is texted
// back exactly once, with the business's text when its client is live, through a Redis
// outage, a database outage, and both at once with Twilio failing too.
import { eventually, requirePostgres, requireRedis, startPrivateRedis, type PrivateRedis } from '@hardening/test-support';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BreakerRegistry, createSafeCall } from '@hardening/core';
import { texts } from '../../src/domain/messages.js';
import { sweepOnce } from '../../src/jobs/sweep.js';
import { onboardClient, type OnboardedClient } from './support/flows.js';
import { levels } from './support/log-capture.js';
import { counterValue } from './support/metrics.js';
import { callSid, phone } from './support/phones.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const postgresUp = await requirePostgres();
const redisUp = await requireRedis();

describe.skipIf(!postgresUp || !redisUp)('missed calls through Redis and database outages (PostgreSQL behind a proxy + a private redis-server)', () => {
  let redis: PrivateRedis;
  let app: TestApp;
  let live: OnboardedClient;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    app = await startTestApp({
      spec: { backend: 'postgres', redis: false },
      storageOptions: { databaseProxy: true },
      env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'failsafe-redis' },
      label: 'failsafe',
      // The directory reads changes every second (default 15 s): a business signed up after
      // the start is known to the fail-safe without a call to its number first.
      // Reconnects to the killed Redis at most 250 ms apart (ioredis backs off to 2 s): a request
      // fails after two of them, so Redis is found down in under a second instead of ~4 s. The
      // fallback taken is the same (the same error, after the same two reconnects).
      overrides: { directory: { changesEveryMs: 1000 }, redisRetryStrategy: (times) => Math.min(times * 50, 250) },
    });
    await app.addPoolNumbers(2);
    live = await onboardClient(app, { businessName: 'Durable Drains' });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });
  beforeEach(async () => {
    // Each case starts with Twilio's breaker closed (a case's 503s open it for 30 s).
    app.ctx.breakers.get('twilio_sms').reset();
    app.providers.twilio.clearFaults();
    app.storage.proxy!.restore();
    if (redisDown) await startRedis();
  });
  let redisDown = false;
  const stopRedis = async () => {
    redisDown = true;
    await redis.stop();
  };
  const startRedis = async () => {
    await redis.start();
    redisDown = false;
  };

  const missed = (sid: string, caller: string) => app.callStatus({ callSid: sid, from: caller, to: live.number, status: 'no-answer' });
  const sendsTo = (to: string) => (r: { method: string; path: string; body: unknown }) =>
    r.method === 'POST' && r.path.endsWith('/Messages.json') && (r.body as Record<string, string>).To === to;
  /** What the jobs loop does once the database is back: the sweep drains the spool, the outbox sends. */
  const recover = async () => {
    // The sweep loop, until the database breaker let its probe through (seconds).
    await eventually(
      async () => {
        try {
          await sweepOnce(app.ctx);
          return true;
        } catch {
          return false;
        }
      },
      15_000,
      250,
    );
    // A worker of later, once Twilio's breaker let its probe through.
    await app.drainOutbox({ safeCall: createSafeCall({ registry: new BreakerRegistry(), logger: app.ctx.logger }) });
  };

  it("Redis down: a live client's caller gets the business's text (not the generic one), once, even when Twilio redelivers", async () => {
    const caller = phone();
    const sid = callSid();
    await stopRedis();
    expect((await missed(sid, caller)).status).toBe(200);
    expect((await missed(sid, caller)).status).toBe(200);
    await app.drainOutbox();
    expect(app.smsTo(caller).map((m) => [m.from, m.body])).toEqual([[live.number, texts.missedCall('Durable Drains')]]);
    expect(app.logs.find('idempotency store unavailable; relying on the outbox send key', levels.warn).length).toBeGreaterThanOrEqual(2);
  });

  it('the database down and Twilio failing at the same moment: the fail-safe is not lost; the caller gets the business text once the database is back', async () => {
    const caller = phone();
    const sid = callSid();
    app.providers.twilio.fail({ status: 503, times: 10, match: sendsTo(caller) });
    app.storage.proxy!.cut();
    expect((await missed(sid, caller)).status).toBe(200);
    expect(app.smsTo(caller)).toEqual([]);
    app.storage.proxy!.restore();
    app.providers.twilio.clearFaults();
    await recover();
    expect(app.smsTo(caller).map((m) => [m.from, m.body])).toEqual([[live.number, texts.missedCall('Durable Drains')]]);
    // A late redelivery after the recovery texts nobody again.
    expect((await missed(sid, caller)).status).toBe(200);
    await recover();
    expect(app.smsTo(caller)).toHaveLength(1);
  });

  it("the database down: the caller gets the business's text (as last read) at once, and a redelivery handled once the database is back, before the spool is drained, texts nobody again", async () => {
    const caller = phone();
    const sid = callSid();
    app.storage.proxy!.cut();
    let first;
    try {
      first = await missed(sid, caller);
    } finally {
      app.storage.proxy!.restore();
    }
    expect(first.status).toBe(200);
    expect(app.smsTo(caller).map((m) => [m.from, m.body])).toEqual([[live.number, texts.missedCall('Durable Drains')]]);
    // Twilio's redelivery is handled through the database (once the breaker lets it), while
    // the call still waits in the spool.
    const handled = () => counterValue(app.ctx.metrics.webhooks, { provider: 'twilio_voice', outcome: 'already_texted' });
    const before = await handled();
    await eventually(
      async () => {
        expect((await missed(sid, caller)).status).toBe(200);
        return (await handled()) > before;
      },
      30_000,
      500,
    );
    await app.drainOutbox();
    expect(app.smsTo(caller)).toHaveLength(1);
    await recover();
    expect(app.smsTo(caller)).toHaveLength(1);
    const rows = await app.ctx.db.prisma.outboundMessage.findMany({ where: { toPhone: caller } });
    expect(rows).toEqual([
      expect.objectContaining({ status: 'sent', purpose: 'missed_call', body: texts.missedCall('Durable Drains'), sendKey: `missed_call:${sid}` }),
    ]);
  }, 90_000);

  it("a business that signed up on another instance after this one started: its caller gets the business's text here while the database is down", async () => {
    const other = await startTestApp({
      storage: app.storage,
      providers: app.providers,
      env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'failsafe-redis' },
      jobRunner: false,
      label: 'failsafe-b',
    });
    let late: OnboardedClient;
    try {
      late = await onboardClient(other, { businessName: 'Later Leaks' });
    } finally {
      await other.close();
    }
    // Nothing on this instance read the new number; the directory's change read (1 s here) must.
    await eventually(() => app.ctx.directory.lookup(late.number)?.businessName === 'Later Leaks', 15_000, 100);
    const caller = phone();
    app.storage.proxy!.cut();
    try {
      expect((await app.callStatus({ callSid: callSid(), from: caller, to: late.number, status: 'no-answer' })).status).toBe(200);
    } finally {
      app.storage.proxy!.restore();
    }
    expect(app.smsTo(caller).map((m) => [m.from, m.body])).toEqual([[late.number, texts.missedCall('Later Leaks')]]);
    await recover();
    expect(app.smsTo(caller)).toHaveLength(1);
  }, 90_000);

  it("the database hung past Twilio's timeout: answered within 15 s (the call spooled first), and the caller gets the business's text once", async () => {
    const caller = phone();
    const sid = callSid();
    app.storage.proxy!.hang();
    // PostgreSQL answers again 16 s later (the chaos run hangs it 15 s).
    const restored = new Promise<void>((resolve) => setTimeout(() => resolve(app.storage.proxy!.restore()), 16_000));
    const first = await missed(sid, caller);
    expect(first.status).toBe(200);
    expect(first.elapsedMs).toBeLessThan(15_000);
    await restored;
    await eventually(async () => (await missed(sid, caller)).status === 200, 30_000, 500);
    await recover();
    await app.drainOutbox();
    expect(app.smsTo(caller).map((m) => [m.from, m.body])).toEqual([[live.number, texts.missedCall('Durable Drains')]]);
    expect(await app.ctx.db.prisma.outboundMessage.count({ where: { toPhone: caller } })).toBe(1);
  }, 90_000);

  it("the database and Redis both down, Twilio redelivering the same CallSid: one SMS (the business's text, as last read), recorded in the outbox once the database is back", async () => {
    const caller = phone();
    const sid = callSid();
    await stopRedis();
    app.storage.proxy!.cut();
    const first = await missed(sid, caller);
    const again = await missed(sid, caller);
    expect([first.status, again.status]).toEqual([200, 200]);
    // Twilio waits 15 s for an answer.
    expect(first.elapsedMs).toBeLessThan(15_000);
    expect(app.smsTo(caller).map((m) => [m.from, m.body])).toEqual([[live.number, texts.missedCall('Durable Drains')]]);
    app.storage.proxy!.restore();
    await startRedis();
    await recover();
    // Redis came back empty; the outbox row under the call's send key keeps it at one text.
    expect((await missed(sid, caller)).status).toBe(200);
    await recover();
    expect(app.smsTo(caller)).toHaveLength(1);
    const rows = await app.ctx.db.prisma.outboundMessage.findMany({ where: { toPhone: caller } });
    expect(rows).toEqual([
      expect.objectContaining({ status: 'sent', purpose: 'missed_call', sendKey: `missed_call:${sid}`, twilioSid: app.smsTo(caller)[0]!.sid }),
    ]);
  }, 90_000);
});
