// @hardening/alerting under faults (issue 10, "Figures to publish"), on the real Redis and
// PostgreSQL of this machine, real twilio and Slack SDKs against the local fakes:
// 1. Three app processes x N identical alerts, burst and sequential, the store slowed by a
//    TCP proxy adding 0-4 s per request: SMS and Slack posts, time from the first fire to
//    the SMS, and to every caller's promise resolved (the winner's included).
// 2. Providers (Twilio and Slack) down for OUTAGE_S seconds (default 60) while 3 instances
//    keep raising 8 alerts: delivered after recovery, lost, duplicated.
// 3. Redis killed for 20 s during a storm (3 instances, PostgreSQL durable store): pages
//    per alert, and whether the store outage itself was paged.
// Long runs: they are not part of the test suite. Run: `npx pnpm@12 bench alerting-faults`
// (or `node --import tsx bench/alerting-faults.bench.ts`). Runs on the packages' sources.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import type * as IORedis from 'ioredis';
import type * as SlackWebApi from '@slack/web-api';
import { silentLogger } from '@hardening/core';
import {
  createAlertService,
  createPrismaAlertStore,
  createRedisAlertStore,
  createSlackSink,
  createTwilioSmsSink,
  type AlertService,
} from '../packages/alerting/src/index.ts';
import {
  ask,
  databaseUrl,
  redisUrl,
  requirePostgres,
  requireRedis,
  startFakeSlack,
  startFakeTwilio,
  startPrivateRedis,
  startTcpProxy,
  uniquePrefix,
  waitReady,
  type FakeSlack,
  type FakeTwilio,
} from '../tools/test-support/src/index.ts';
import { createSchema, dropSchema, postgresClient, uniqueSchema } from '../packages/alerting/test/support/databases.ts';
import { raceWorkerEnv, totalRace, type FireReply } from '../packages/alerting/test/support/race-worker-env.ts';
import { deleteRedisKeys } from '../packages/alerting/test/support/shared-store.ts';

// ioredis and the Slack SDK are dev dependencies of the alerting package, not of the workspace root.
const requireFromAlerting = createRequire(new URL('../packages/alerting/package.json', import.meta.url));
const { Redis } = requireFromAlerting('ioredis') as typeof IORedis;
type Redis = IORedis.Redis;
const { WebClient } = requireFromAlerting('@slack/web-api') as typeof SlackWebApi;

const second = 1000;
const s = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MAX_DELAY_MS = 4000;
const BURST = Number(process.env.BURST ?? 1000);
const SEQUENTIAL = Number(process.env.SEQUENTIAL ?? 20);
const OUTAGE_S = Number(process.env.OUTAGE_S ?? 60);
const worker = new URL('../packages/alerting/test/fixtures/race-worker.ts', import.meta.url);

const typeOf = (message: { body: string }) => /\] ([A-Z_]+)/.exec(message.body)?.[1] ?? message.body.slice(0, 40);

/** 1. The slowed-store race, three worker processes. */
async function slowStore(store: 'redis' | 'postgres', mode: 'burst' | 'sequential', services: number, count: number) {
  const [twilio, slack] = await Promise.all([startFakeTwilio(), startFakeSlack()]);
  const prefix = uniquePrefix('bench-slow');
  const schema = uniqueSchema('bench_slow');
  if (store === 'postgres') await createSchema(schema);
  const target = new URL(store === 'redis' ? redisUrl : databaseUrl);
  const proxy = await startTcpProxy(target.hostname, Number(target.port));
  const env = raceWorkerEnv({ store, proxy, twilio, slack, prefix, schema });
  const workers: ChildProcess[] = Array.from({ length: 3 }, () =>
    fork(fileURLToPath(worker), [], {
      execArgv: ['--import', 'tsx', '--conditions=@hardening/source'],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  try {
    await Promise.all(workers.map((w) => waitReady(w, 60_000)));
    proxy.slow(() => Math.random() * MAX_DELAY_MS);
    const replies = await Promise.all(
      workers.map((w) => ask<FireReply>(w, { cmd: 'fire', count, services, mode, resourceId: `client_${mode}_${services}` }, 3_600_000)),
    );
    proxy.restore();
    const { byStatus: outcomes, via, firedAt, lastResolvedAt, winner } = totalRace(replies);
    const smsAt = twilio.requests.find((r) => r.path.endsWith('/Messages.json'))?.receivedAt;
    return {
      store,
      mode,
      'services/process': services,
      alerts: `3 x ${count}`,
      SMS: twilio.messages.length,
      // Which alerts the texts were about: the raced one, or the service's own alerts about its store.
      'SMS by type': JSON.stringify(
        Object.fromEntries([...new Set(twilio.messages.map(typeOf))].map((t) => [t, twilio.messages.filter((m) => typeOf(m) === t).length])),
      ),
      Slack: slack.messages.length,
      outcomes: JSON.stringify(outcomes),
      'claimed via': JSON.stringify(via),
      'fire -> SMS': s(smsAt === undefined ? undefined : smsAt - firedAt),
      'fire -> winner resolved': s(winner?.deliveredResolvedAt === undefined ? undefined : winner.deliveredResolvedAt - firedAt),
      'fire -> all resolved': s(lastResolvedAt - firedAt),
    };
  } finally {
    proxy.restore();
    await Promise.allSettled(workers.map((w) => ask(w, { cmd: 'stop' }, 60_000)));
    await Promise.all([twilio.close(), slack.close(), proxy.close()]);
    if (store === 'postgres') await dropSchema(schema);
    else await deleteRedisKeys(prefix);
  }
}

function sinksFor(twilio: FakeTwilio, slack: FakeSlack) {
  return [
    createTwilioSmsSink({ client: twilio.client(), from: '+15557654321', to: '+15551234567' }),
    createSlackSink({
      client: new WebClient('xoxb-bench', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true }),
      channel: '#alerts',
      minIntervalMs: 0,
    }),
  ];
}

/** Messages naming each resource (whole word: client_storm_1 is not client_storm_10). */
const countBy = (bodies: string[], ids: string[]) => ids.map((id) => bodies.filter((b) => new RegExp(`\\b${id}\\b`).test(b)).length);

/** 2. Providers down OUTAGE_S seconds, three instances on the shared Redis store. */
async function providersDown() {
  const [twilio, slack] = await Promise.all([startFakeTwilio(), startFakeSlack()]);
  const prefix = uniquePrefix('bench-providers');
  const clients: Redis[] = [];
  const instances: AlertService[] = Array.from({ length: 3 }, () => {
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    clients.push(redis);
    return createAlertService({
      sinks: sinksFor(twilio, slack),
      store: createRedisAlertStore({ redis, prefix }),
      logger: silentLogger,
      maintenanceIntervalMs: 2 * second,
      retry: { initialDelayMs: 100, timeoutMs: 5000 },
      env: {},
    });
  });
  const ids = Array.from({ length: 8 }, (_, i) => `client_outage_${i}`);
  try {
    twilio.fail({ status: 500, times: 1_000_000 });
    slack.fail({ status: 500, times: 1_000_000 });
    const outageStart = Date.now();
    // Every 5 s, as monitor rounds would, every instance raises every alert.
    while (Date.now() - outageStart < OUTAGE_S * second) {
      await Promise.all(
        instances.flatMap((alerts) =>
          ids.map((id) =>
            alerts.sendCriticalAlert({
              type: 'PAYMENT_WEBHOOK_FAILING',
              severity: 'HIGH',
              resourceId: id,
              title: 'Stripe webhooks failing',
              message: 'outage',
            }),
          ),
        ),
      );
      await sleep(5 * second);
    }
    twilio.clearFaults();
    slack.clearFaults();
    const recoveredAt = Date.now();
    let allAt: number | undefined;
    while (Date.now() - recoveredAt < 90 * second) {
      const sms = countBy(
        twilio.messages.map((m) => m.body),
        ids,
      );
      if (allAt === undefined && sms.every((n) => n >= 1)) allAt = Date.now();
      if (allAt !== undefined && Date.now() - allAt > 10 * second) break; // 10 s more to see any duplicate
      await sleep(250);
    }
    const sms = countBy(
      twilio.messages.map((m) => m.body),
      ids,
    );
    const slackPosts = countBy(
      slack.messages.map((m) => JSON.stringify(m.args)),
      ids,
    );
    return {
      outage: `${OUTAGE_S} s`,
      alerts: `${ids.length} (raised by 3 instances every 5 s)`,
      'delivered after recovery': sms.filter((n) => n >= 1).length,
      'lost (no SMS within 90 s)': sms.filter((n) => n === 0).length,
      'SMS per alert': [...new Set(sms)].join('/'),
      'Slack per alert': [...new Set(slackPosts)].join('/'),
      'recovery -> all delivered': s(allAt === undefined ? undefined : allAt - recoveredAt),
    };
  } finally {
    await Promise.all(instances.map((a) => a.close()));
    await deleteRedisKeys(prefix, clients[0]);
    for (const c of clients) c.disconnect();
    await Promise.all([twilio.close(), slack.close()]);
  }
}

/** 3. Redis killed 20 s during a storm; PostgreSQL is the durable store. */
async function redisKilled() {
  const [twilio, slack, privateRedis] = await Promise.all([startFakeTwilio(), startFakeSlack(), startPrivateRedis()]);
  const schema = uniqueSchema('bench_kill');
  await createSchema(schema);
  const closers: Array<() => Promise<void>> = [];
  const instances: AlertService[] = Array.from({ length: 3 }, () => {
    const redis = new Redis(privateRedis.url, { maxRetriesPerRequest: 1, connectTimeout: 1000 });
    redis.on('error', () => undefined);
    const prisma = postgresClient(schema, 4);
    closers.push(
      () => Promise.resolve(redis.disconnect()),
      () => prisma.$disconnect(),
    );
    return createAlertService({
      sinks: sinksFor(twilio, slack),
      store: createRedisAlertStore({ redis, prefix: 'storm' }),
      durableStore: createPrismaAlertStore({ prisma }),
      logger: silentLogger,
      maintenanceIntervalMs: 2 * second,
      storeTimeoutMs: 5000,
      retry: { initialDelayMs: 100, timeoutMs: 5000 },
      env: {},
    });
  });
  const ids: string[] = [];
  try {
    const started = Date.now();
    let killed = false;
    let restarted = false;
    // 60 s storm: a new alert every 3 s, each raised by all 3 instances every 250 ms while
    // it lasts (12 s); Redis is killed at 20 s and restarted (empty) at 40 s.
    const fired: Array<Promise<unknown>> = [];
    while (Date.now() - started < 60 * second) {
      const t = Date.now() - started;
      if (!killed && t >= 20 * second) {
        killed = true;
        await privateRedis.stop();
      }
      if (!restarted && t >= 40 * second) {
        restarted = true;
        await privateRedis.start();
      }
      const current = Math.floor(t / (3 * second));
      for (let k = Math.max(0, current - 3); k <= current; k++) {
        const id = `client_storm_${k}`;
        if (!ids.includes(id)) ids.push(id);
        for (const alerts of instances)
          fired.push(
            alerts.sendCriticalAlert({ type: 'PAYMENT_WEBHOOK_FAILING', severity: 'HIGH', resourceId: id, title: 'Stripe webhooks failing', message: 'storm' }),
          );
      }
      await sleep(250);
    }
    await Promise.all(fired);
    await sleep(10 * second); // pending pages and receipts settle
    const sms = countBy(
      twilio.messages.map((m) => m.body),
      ids,
    );
    const during = ids.filter((_, i) => i >= 20 / 3 - 1 && i <= 40 / 3);
    const outagePages = twilio.messages.filter((m) => /Alert store redis unavailable/i.test(m.body)).length;
    return {
      storm: `${ids.length} alerts x 3 instances every 250 ms, 60 s`,
      'Redis down': '20 s (20 s -> 40 s), restarted empty',
      'alerts raised': fired.length,
      'SMS per alert (max)': Math.max(...sms),
      'alerts with 0 SMS': sms.filter((n) => n === 0).length,
      'alerts with >1 SMS': sms.filter((n) => n > 1).length,
      'alerts live during the outage': during.length,
      'store outage paged (SMS)': outagePages,
    };
  } finally {
    await Promise.all(instances.map((a) => a.close()));
    for (const close of closers) await close();
    await Promise.all([twilio.close(), slack.close(), privateRedis.stop()]);
    await dropSchema(schema);
  }
}

const redisUp = await requireRedis();
const postgresUp = await requirePostgres();
console.log(`alerting under faults, ${new Date().toISOString()}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}, Node ${process.version}`);
const only = process.env.ONLY?.split(',');
const want = (name: string) => only === undefined || only.includes(name);

if (want('slow')) {
  const rows = [];
  for (const store of ['redis', 'postgres'] as const) {
    if (store === 'redis' ? !redisUp : !postgresUp) continue;
    for (const [mode, services, count] of [
      ['burst', 1, BURST],
      ['burst', 100, BURST],
      ['sequential', 1, SEQUENTIAL],
    ] as const) {
      if (process.env.SLOW_CASE !== undefined && process.env.SLOW_CASE !== `${store}:${mode}:${services}`) continue;
      rows.push(await slowStore(store, mode, services, count));
      process.stderr.write(`  measured: ${JSON.stringify(rows.at(-1))}\n`); // progress: these runs are long
    }
  }
  console.log(`\n1. Three processes, identical alerts, store slowed 0-${MAX_DELAY_MS / 1000} s per request (sequential: each process awaits each alert)`);
  console.table(rows);
}
if (want('providers') && redisUp) {
  console.log(`\n2. Providers (Twilio and Slack) down ${OUTAGE_S} s, then back`);
  console.table([await providersDown()]);
}
if (want('kill') && postgresUp) {
  console.log('\n3. Redis killed 20 s during a storm (PostgreSQL durable store)');
  console.table([await redisKilled()]);
}
process.exit(0);
