// @hardening/alerting figures, against the built packages:
// 1. Time from a condition becoming true to the SMS sink receiving the alert, under the
//    default monitor interval (5 min, jitter up to 30 s), on a simulated clock: the real
//    RuntimeMonitor schedule (nextRunAt) and rounds, the real StuckStateDetector and
//    AlertService, the real twilio SDK posting to a local fake Twilio. Simulated minutes
//    plus the real milliseconds of the delivery.
// 2. Duplicate deliveries when three app processes race 1,000 identical alerts each on a
//    shared store (Redis, PostgreSQL): must be 0.
// 3. Cost of the duplicate path (an alert already delivered, suppressed by the store).
// 4. (issue 12) Bytes the duplicate path allocates per call, and keeps after a GC
//    (packages/alerting/bench/allocations.ts, in a process of its own with a young
//    generation large enough that a batch needs no GC).
import { fork, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as IORedis from 'ioredis';
import type * as PG from 'pg';
import { silentLogger } from '@hardening/core';
import {
  createAlertService,
  createMemoryAlertStore,
  createRedisAlertStore,
  createTwilioSmsSink,
  RuntimeMonitor,
  StuckStateDetector,
  type AlertStore,
  type TrackedEntity,
} from '@hardening/alerting';
import { requirePostgres, requireRedis, startFakeTwilio, twilioClientFor, uniquePrefix, databaseUrl, redisUrl } from '../tools/test-support/src/index.ts';
import { generateTestClient } from '../packages/alerting/scripts/generate-test-client.mjs';

// ioredis and pg are dev dependencies of the alerting package, not of the workspace root.
const requireFromAlerting = createRequire(new URL('../packages/alerting/package.json', import.meta.url));
const { Redis } = requireFromAlerting('ioredis') as typeof IORedis;
const pg = requireFromAlerting('pg') as typeof PG;

const minute = 60_000;
const fmt = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function detectionLatency(): Promise<void> {
  const twilio = await startFakeTwilio();
  let now = Date.parse('2026-03-02T00:00:00Z');
  const clock = { now: () => now };
  const alerts = createAlertService({
    sinks: [createTwilioSmsSink({ client: twilioClientFor(twilio.url, twilio.accountSid, twilio.authToken), from: '+15557654321', to: '+15551234567' })],
    routes: { HIGH: ['sms'] },
    clock,
    logger: silentLogger,
    maintenanceIntervalMs: false,
    env: {},
  });
  const entities = new Map<string, TrackedEntity>();
  const detector = new StuckStateDetector({ source: () => entities.values(), maxDwellMs: {}, terminalStates: ['PROVISIONING_FAILED'], alerts, clock });
  const monitor = new RuntimeMonitor({ clock, logger: silentLogger }); // defaults: 5 min, jitter min(30 s, 10%)
  monitor.register('stuck', () => detector.check());

  // Conditions start at random moments; the monitor's own schedule decides when they are seen.
  const onsets: Array<{ id: string; at: number }> = [];
  let t = now;
  for (let i = 0; i < 300; i++) {
    t += Math.random() * 10 * minute;
    onsets.push({ id: `client_${i}`, at: t });
  }
  const latencies: number[] = [];
  const deliveryMs: number[] = [];
  let next = 0;
  while (latencies.length < onsets.length) {
    const roundAt = monitor.nextRunAt(now);
    while (next < onsets.length && onsets[next]!.at <= roundAt) {
      entities.set(onsets[next]!.id, { id: onsets[next]!.id, state: 'PROVISIONING_FAILED', enteredAt: onsets[next]!.at });
      next++;
    }
    now = roundAt;
    const before = twilio.messages.length;
    const started = performance.now();
    await monitor.runRound(roundAt);
    const realMs = performance.now() - started;
    for (const message of twilio.messages.slice(before)) {
      const id = /Resource: (client_\d+)/.exec(message.body)![1]!;
      const onset = onsets.find((o) => o.id === id)!;
      latencies.push(roundAt + realMs - onset.at);
      deliveryMs.push(realMs);
      entities.delete(id);
    }
  }
  await alerts.close();
  await twilio.close();
  latencies.sort((a, b) => a - b);
  deliveryMs.sort((a, b) => a - b);
  console.log('\nTime from a condition becoming true to the SMS sink receiving the alert');
  console.log('(simulated clock; default RuntimeMonitor interval 5 min, jitter up to 30 s; real SDK + HTTP delivery)');
  console.table([
    {
      samples: latencies.length,
      p50: fmt(quantile(latencies, 0.5)),
      p90: fmt(quantile(latencies, 0.9)),
      max: fmt(latencies.at(-1)!),
      'bound (interval + jitter)': fmt(5 * minute + 30_000),
      'delivery part p50 (real)': `${quantile(deliveryMs, 0.5).toFixed(1)} ms`,
    },
  ]);
}

async function race(store: 'redis' | 'postgres', services: number): Promise<Record<string, string | number>> {
  const twilio = await startFakeTwilio();
  const prefix = uniquePrefix('bench-race');
  const schema = `bench_race_${process.pid}_${Date.now().toString(36)}`;
  const admin = store === 'postgres' ? new pg.Client({ connectionString: databaseUrl }) : undefined;
  if (admin !== undefined) {
    await admin.connect();
    const { migrationSql } = await import('../packages/alerting/test/support/databases.ts');
    await admin.query(`CREATE SCHEMA "${schema}"; SET search_path TO "${schema}";`);
    await admin.query(migrationSql);
  }
  // The test fixture, run on the built package (no @hardening/source condition).
  const workerPath = fileURLToPath(new URL('../packages/alerting/test/fixtures/race-worker.ts', import.meta.url));
  const env = {
    ...process.env,
    STORE: store,
    REDIS_URL: redisUrl,
    PREFIX: prefix,
    SCHEMA: schema,
    TWILIO_URL: twilio.url,
    TWILIO_SID: twilio.accountSid,
    TWILIO_TOKEN: twilio.authToken,
  };
  const workers = Array.from({ length: 3 }, () => fork(workerPath, [], { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const ask = (w: (typeof workers)[number], msg: Record<string, unknown>) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const id = Math.random().toString(36).slice(2);
      const on = (reply: Record<string, unknown>) => {
        if (reply.id === id) {
          w.off('message', on);
          resolve(reply);
        }
      };
      w.on('message', on);
      w.send({ ...msg, id });
    });
  await Promise.all(workers.map((w) => new Promise<void>((resolve) => w.once('message', () => resolve()))));
  const started = performance.now();
  const replies = await Promise.all(workers.map((w) => ask(w, { cmd: 'fire', count: 1000, services })));
  const elapsed = performance.now() - started;
  const outcomes: Record<string, number> = {};
  for (const reply of replies) for (const [k, v] of Object.entries(reply.byStatus as Record<string, number>)) outcomes[k] = (outcomes[k] ?? 0) + v;
  await Promise.all(workers.map((w) => ask(w, { cmd: 'stop' })));
  const sms = twilio.messages.length;
  await twilio.close();
  if (admin !== undefined) {
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    await admin.end();
  } else {
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`{${prefix}}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
  return {
    store,
    processes: 3,
    'alert services each': services,
    'alerts each': 1000,
    'SMS sent': sms,
    'duplicate deliveries': sms - 1,
    delivered: outcomes.delivered ?? 0,
    suppressed: outcomes.suppressed ?? 0,
    'wall time': `${(elapsed / 1000).toFixed(2)} s`,
  };
}

async function duplicatePath(name: string, store: AlertStore, calls: number): Promise<Record<string, string | number>> {
  const sink = {
    name: 'sms',
    send() {
      return Promise.resolve({});
    },
  };
  const alerts = createAlertService({ sinks: [sink], store, logger: silentLogger, maintenanceIntervalMs: false, env: {} });
  const alert = { type: 'BENCH_DUP', severity: 'HIGH' as const, resourceId: `r-${Date.now()}`, title: 'dup', message: '' };
  await alerts.sendCriticalAlert(alert);
  for (let i = 0; i < Math.min(200, calls); i++) await alerts.sendCriticalAlert(alert); // warm-up
  const started = performance.now();
  for (let i = 0; i < calls; i++) await alerts.sendCriticalAlert(alert);
  const ms = performance.now() - started;
  await alerts.close();
  return { store: name, calls, 'µs/alert (sequential)': Math.round((ms * 1000) / calls), 'alerts/s': Math.round(calls / (ms / 1000)) };
}

await detectionLatency();

const redisUp = await requireRedis();
const postgresUp = await requirePostgres();
if (postgresUp) generateTestClient();
const raceRows = [];
for (const services of [1, 100]) {
  // 100 services per process: every alert claims in the store (one service coalesces identical alerts in flight).
  if (redisUp) raceRows.push(await race('redis', services));
  if (postgresUp) raceRows.push(await race('postgres', services));
}
console.log('\nThree app processes racing 1,000 identical alerts each (separate Node processes, one fake Twilio)');
console.table(raceRows);

const dupRows = [await duplicatePath('memory', createMemoryAlertStore(), 20_000)];
if (redisUp) {
  const redis = new Redis(redisUrl);
  const prefix = uniquePrefix('bench-dup');
  dupRows.push(await duplicatePath('redis', createRedisAlertStore({ redis, prefix }), 3000));
  const keys = await redis.keys(`{${prefix}}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}
console.log('\nThe duplicate path: an alert already delivered, raised again (claim + history row; nothing sent)');
console.table(dupRows);

const allocations = spawnSync(
  process.execPath,
  [
    '--expose-gc',
    '--min-semi-space-size=64',
    '--max-semi-space-size=64',
    '--import',
    'tsx',
    fileURLToPath(new URL('../packages/alerting/bench/allocations.ts', import.meta.url)),
  ],
  { encoding: 'utf8' },
);
if (allocations.status === 0) {
  console.log('\nBytes per call of the duplicate path (memory store; median of 2,000-call batches without a GC; retained: still held after a full GC)');
  console.table(
    allocations.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { path: string; bytesPerCall: number; retainedPerCall: number }),
  );
} else {
  console.error(`allocation probe failed: ${allocations.stderr}`);
}
process.exit(allocations.status === 0 ? 0 : 1);
