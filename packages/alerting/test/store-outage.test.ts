// Issue 10, defects 4 and 5, from the caller's side on real servers: a private
// redis-server (killed and restarted) as the claim store with the shared PostgreSQL as
// the durable store; PostgreSQL cut through a TCP proxy for the "every store down" case;
// and a burst whose history writes cannot proceed, to prove the winner does not wait.
import { PrismaPg } from '@prisma/adapter-pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  databaseUrl,
  requirePostgres,
  requireRedis,
  startFakeSlack,
  startFakeTwilio,
  startPrivateRedis,
  startTcpProxy,
  type FakeSlack,
  type FakeTwilio,
  type PrivateRedis,
  type TcpProxy,
} from '@hardening/test-support';
import {
  createAlertService,
  createPrismaAlertStore,
  createRedisAlertStore,
  createTwilioSmsSink,
  type AlertService,
  type AlertServiceOptions,
  type AlertStore,
} from '../src/index.js';
import { PrismaClient } from './generated/client/client.ts';
import { captureLogger } from './support/capture-logger.js';
import { smsAndSlackSinks } from './support/provider-sinks.js';
import { createSchema, dropSchema, uniqueSchema } from './support/databases.js';
import { openSharedStore } from './support/shared-store.js';

const redisUp = await requireRedis();
const postgresUp = await requirePostgres();

const alertFor = (resourceId: string) => ({
  type: 'PAYMENT_BLOCK',
  severity: 'HIGH' as const,
  resourceId,
  title: `Payments blocked for ${resourceId}`,
  message: 'Every charge is refused.',
});

describe.skipIf(!postgresUp)('the alert store goes down (private redis-server killed; PostgreSQL durable store)', () => {
  let twilio: FakeTwilio;
  let slack: FakeSlack;
  let privateRedis: PrivateRedis;
  let pgProxy: TcpProxy;
  const schema = uniqueSchema('alert_outage');
  const clients: Array<{ close(): Promise<void> }> = [];
  const started: AlertService[] = [];

  beforeAll(async () => {
    [twilio, slack, privateRedis] = await Promise.all([startFakeTwilio(), startFakeSlack(), startPrivateRedis()]);
    await createSchema(schema);
    const target = new URL(databaseUrl);
    pgProxy = await startTcpProxy(target.hostname, Number(target.port));
  }, 30_000);
  afterAll(async () => {
    await Promise.all(started.map((s) => s.close()));
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all([twilio.close(), slack.close(), privateRedis.stop(), pgProxy.close()]);
    await dropSchema(schema);
  }, 30_000);

  /** One app instance: its own Redis and PostgreSQL connections, as a process has. */
  function instance(extra: Partial<AlertServiceOptions> = {}) {
    // Reconnect attempts at most 500 ms apart (ioredis's default backs off to 2 s): the
    // killed Redis is still found down by refused reconnects, and found back, sooner.
    const redis = new Redis(privateRedis.url, { maxRetriesPerRequest: 1, connectTimeout: 1000, retryStrategy: (times) => Math.min(times * 50, 500) });
    redis.on('error', () => undefined);
    const prisma = new PrismaClient({
      adapter: new PrismaPg(
        { connectionString: pgProxy.url(databaseUrl), options: `-c search_path="${schema}"`, max: 4, connectionTimeoutMillis: 2000 },
        { schema },
      ),
    });
    clients.push({ close: () => Promise.resolve(redis.disconnect()) }, { close: () => prisma.$disconnect() });
    const logger = captureLogger();
    const alerts = createAlertService({
      sinks: [...smsAndSlackSinks(twilio, slack)],
      store: createRedisAlertStore({ redis, prefix: 'outage' }),
      durableStore: createPrismaAlertStore({ prisma }),
      logger,
      maintenanceIntervalMs: false,
      storeTimeoutMs: 5000,
      // The store breakers' cooldown is what a restarted store waits out before it is used
      // again: 1 s instead of the 10 s default (the recovery is the behaviour, not its delay).
      storeBreaker: { cooldownMs: 1000 },
      retry: { initialDelayMs: 5, timeoutMs: 3000 },
      env: {},
      ...extra,
    });
    started.push(alerts);
    return { alerts, logger };
  }

  const smsAbout = (text: string) => twilio.messages.filter((m) => m.body.includes(text)).length;

  it('Redis killed: claims move to PostgreSQL (one page per alert across instances), the outage itself is paged once, status says why; after the restart nothing is sent twice and history is intact', async () => {
    const [a, b] = [instance(), instance()];
    expect((await a.alerts.sendCriticalAlert(alertFor('client_before'))).status).toBe('delivered');

    await privateRedis.stop();
    const during = await Promise.all([a, b, a, b].map(({ alerts }) => alerts.sendCriticalAlert(alertFor('client_during'))));
    expect(during.map((r) => r.status).sort()).toEqual(['delivered', 'suppressed', 'suppressed', 'suppressed']);
    expect(during.every((r) => r.claimedVia === 'durable')).toBe(true);
    expect(smsAbout('client_during')).toBe(1);

    // The outage is raised through what still works, once for the fleet (its claim is in PostgreSQL).
    await expect.poll(() => smsAbout('Alert store redis unavailable'), { timeout: 15_000 }).toBe(1);
    const status = b.alerts.getAlertSystemStatus();
    expect(status.healthy).toBe(false);
    expect(status.stores.find((s) => s.store === 'redis')).toMatchObject({ state: 'down' });
    expect(status.problems.join('\n')).toMatch(/alert store redis down/);
    expect(a.logger.lines.some((l) => l.level === 'error' && l.msg?.startsWith('ALERT STORE DOWN: redis'))).toBe(true);

    // Redis back, empty (no persistence): claims taken before and during the outage still hold.
    await privateRedis.start();
    await expect.poll(async () => (await a.alerts.sendCriticalAlert(alertFor('client_probe'))).claimedVia, { timeout: 15_000 }).toBe('store');
    expect((await a.alerts.sendCriticalAlert(alertFor('client_before'))).status).toBe('suppressed');
    expect((await b.alerts.sendCriticalAlert(alertFor('client_during'))).status).toBe('suppressed');
    expect(smsAbout('client_before')).toBe(1);
    expect(smsAbout('client_during')).toBe(1);
    // History lives in PostgreSQL: the rows from before the restart are there. Each instance
    // writes its own rows behind its callers (write-behind), so b's last row may still be in
    // flight when a reads: wait for both writers, then count. No row may have been lost.
    await Promise.all([a, b].map(({ alerts }) => alerts.close()));
    const stats = await a.alerts.getAlertStats({ hours: 1 });
    expect(stats.byType.PAYMENT_BLOCK?.delivered).toBeGreaterThanOrEqual(3);
    expect(stats.byType.PAYMENT_BLOCK?.suppressed).toBeGreaterThanOrEqual(5);
    expect([...a.logger.lines, ...b.logger.lines].filter((l) => l.msg?.includes('history rows lost'))).toEqual([]);
  }, 60_000);

  it('every store down: the designated sender pages, the other instance queues its alert and finds it a duplicate once a store answers', async () => {
    const designated = instance({ designatedSender: true });
    // Its queued page is retried after 1 s rather than the 5 s default: the retry is the behaviour, not its delay.
    const other = instance({ designatedSender: false, pendingRetry: { initialDelayMs: 1000 } });
    await privateRedis.stop();
    pgProxy.cut();
    const [sent, deferred] = await Promise.all([
      designated.alerts.sendCriticalAlert(alertFor('client_dark')),
      other.alerts.sendCriticalAlert(alertFor('client_dark')),
    ]);
    expect(sent).toMatchObject({ status: 'delivered', claimedVia: 'designated' });
    expect(deferred).toMatchObject({ status: 'failed', claimedVia: 'deferred' });
    expect(deferred.pendingUntil).toBeDefined();
    expect(smsAbout('client_dark')).toBe(1);
    expect(other.alerts.getAlertSystemStatus().problems.join('\n')).toMatch(/deferred rule/);

    pgProxy.restore();
    await privateRedis.start();
    // The designated sender writes its in-memory claims to the store once it answers (its
    // store breakers may still be cooling down); the other instance retries its page.
    await expect.poll(async () => (await designated.alerts.runMaintenance()).replayed, { timeout: 20_000, interval: 500 }).toBeGreaterThan(0);
    await expect.poll(async () => (await other.alerts.runMaintenance()).pending, { timeout: 30_000, interval: 1000 }).toBe(0);
    expect(smsAbout('client_dark')).toBe(1);
  }, 60_000);
});

for (const kind of ['redis', 'postgres'] as const) {
  describe.skipIf(kind === 'redis' ? !redisUp : !postgresUp)(`a burst's winner does not wait behind its duplicates' history (${kind})`, () => {
    let twilio: FakeTwilio;
    let store: AlertStore;
    let close: () => Promise<void>;

    beforeAll(async () => {
      twilio = await startFakeTwilio();
      ({ store, close } = await openSharedStore(kind, 'alert-burst'));
    });
    afterAll(async () => {
      await twilio.close();
      await close();
    });

    it('1,000 identical alerts resolve while no history row can be written yet; the rows follow (1 delivered, 999 suppressed)', async () => {
      let openGate!: () => void;
      const gate = new Promise<void>((resolve) => {
        openGate = resolve;
      });
      let written = 0;
      // The store's history writes wait behind a gate: only the history, claims are real.
      const gated: AlertStore = {
        ...store,
        kind: store.kind,
        append: async (entry) => {
          await gate;
          await store.append(entry);
          written++;
        },
        appendMany: async (entries) => {
          await gate;
          await store.appendMany!(entries);
          written += entries.length;
        },
      };
      const alerts = createAlertService({
        sinks: [createTwilioSmsSink({ client: twilio.client(), from: '+15557654321', to: '+15551234567' })],
        store: gated,
        logger: captureLogger(),
        maintenanceIntervalMs: false,
        env: {},
      });
      const results = await Promise.all(Array.from({ length: 1000 }, () => alerts.sendCriticalAlert(alertFor(`client_burst_${kind}`))));
      const counts: Record<string, number> = {};
      for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
      expect(counts).toEqual({ delivered: 1, suppressed: 999 });
      expect(twilio.messages).toHaveLength(1);
      expect(written).toBe(0);
      openGate();
      await alerts.close();
      expect(written).toBe(1000);
      const stats = await alerts.getAlertStats({ hours: 1 });
      expect(stats.byType.PAYMENT_BLOCK).toMatchObject({ delivered: 1, suppressed: 999 });
    }, 60_000);
  });
}
