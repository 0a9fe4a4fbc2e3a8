// `pnpm test:chaos`: the reference app as a small production deployment under fire.
//
// Three instances of the app (child processes running src/main.ts) share one PostgreSQL
// database of the harness's own, reached through a TCP proxy the harness can hang, and one
// private redis-server it can kill and restart empty. Twilio and Slack are local
// stand-ins that record every call (Twilio's Messages list included, so the outbox's
// reconciliation works) and can answer 500. Signed traffic with duplicates runs while the
// faults of issue 11 strike one at a time, then all together; after each scenario's drain
// the invariants are checked and the report is written to reports/chaos/ (full mode).
//
// Environment:
//   CHAOS_QUICK=1          windows and traffic at a quarter of the issue's (development)
//   CHAOS_TIME_SCALE=0.5   any other scale (1 = the issue's windows, the committed report)
//   CHAOS_SCENARIOS=a,b    only these scenarios (names in faults.ts)
//   (scenario carrier-blocks-sender: the probes of a halted sender come every 30 s, scaled)
//   CHAOS_RATE=4           new events per second
//   CHAOS_REPORT_DIR=dir   where the report goes (default reports/chaos, or a temp folder when scaled)
//   CHAOS_KEEP=1           keep the database and the logs folder
//   CHAOS_BUDGET_MINUTES=10  the run fails (exit 1) when it takes longer than this, cleanup included
//   CHAOS_MAX_MINUTES=25   hard bound on the whole run (exit 2 beyond it)
//   CHAOS_NODE_ARGS="..."  more node flags for each instance, `{name}` replaced by its name
//                          (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof/{name}" to profile them)
//
// Beside the instances' logs (app-N.log) the logs folder gets deliveries.jsonl (every
// delivery as the delivery thread timed it; its X-Request-Id is the app's request id, so the
// app's "request completed" line pairs with it) and harness-lag.jsonl (the main loop's own
// stalls; deliveries and health probes run on threads of their own, so these no longer
// shorten a delivery's timeout or delay a probe).
//
// Independent faults overlap to keep the run within its budget: the carrier's block of one
// business's sender (2 minutes) runs beside the instance faults (SIGKILL, then SIGTERM),
// whose traffic leaves that business out. Faults sharing a dependency (Redis, PostgreSQL,
// the providers) each run alone, then all together in `combined`.
//
// Exit code 0 when every invariant held, 1 with the list of violations otherwise, 2 when
// the harness itself could not run.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { BreakerRegistry, createSafeCall } from '@hardening/core';
import {
  createTestDatabase,
  requirePostgres,
  startPrivateRedis,
  startTcpProxy,
  type PrivateRedis,
  type TcpProxy,
  type TestDatabase,
} from '@hardening/test-support';
import { createLogger } from '../src/context.js';
import { openDatabase } from '../src/db/database.js';
import { checkoutCompleted } from '../test/e2e/support/events.js';
import { callSid, messageSid, phone } from '../test/e2e/support/phones.js';
import { startProviders, type Providers } from '../test/e2e/support/providers.js';
import { appDir, startCluster, type AppInstance, type ExitRecord } from './cluster.js';
import type { FakeTwilioMessage } from '@hardening/test-support';
import type { CarrierBlockRecord } from './carrier-block.js';
import { callParams, closeDeliveries, deliverOnce, deliverWithRetry, LoadBalancer, smsParams, stripeRequest, twilioRequest, type Signing } from './deliver.js';
import { providerOutageSwitch, runFault, scenarios, type FaultTargets, type FaultWindow, type Scenario } from './faults.js';
import { evaluate, type ScenarioRecord } from './invariants.js';
import { deliveredAlerts, Observer } from './observer.js';
import { writeReport, type RunReport } from './report.js';
import { optOutDuringBlock, runTraffic, runId, type LiveBusiness } from './traffic.js';

const quick = process.env.CHAOS_QUICK === '1';
const timeScale = Number(process.env.CHAOS_TIME_SCALE ?? (quick ? 0.25 : 1));
const ratePerSec = Number(process.env.CHAOS_RATE ?? 4);
const only = (process.env.CHAOS_SCENARIOS ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const repoRoot = join(appDir, '..', '..');
const instanceCount = 3;
const systemNumber = '+15550001000';
const adminPhone = '+15550009999';
const adminToken = `chaos-admin-${runId()}-0123456789`;
const publicBaseUrl = 'https://assistant.example.test';
/**
 * Longest wait for the backlog to clear after a scenario, and after the last one (outbox
 * retries back off from 30 s). A scenario's leftovers are judged at the end all the same
 * (phones are unique per scenario, texts count whenever they go out), so the per-scenario
 * cap only bounds the run: 20 s, the final drain catches what is left.
 */
const drainCapMs = Math.max(15_000, 20_000 * timeScale);
/** The run's budget (issue 11: under 10 minutes), start-up, final drain and cleanup included. */
const budgetMs = Number(process.env.CHAOS_BUDGET_MINUTES ?? 10) * 60_000;
/**
 * Scenarios run side by side (lanes of one step), because their faults share nothing: the
 * carrier blocks one business's sender; the instance faults take one process of three. The
 * instance lane's traffic leaves the blocked business out (its texts would be the carrier
 * scenario's), and each lane is judged on its own events.
 */
const overlapping: readonly (readonly string[])[] = [['carrier-blocks-sender'], ['instance-sigkill', 'instance-sigterm']];
const finalDrainCapMs = Math.max(30_000, 90_000 * timeScale);
/** A halted sender's probes (DELIVERABILITY_PROBE_AFTER_MS and _INTERVAL_MS): 30 s at scale 1, not the production 5 min, so a 2-minute block sees probes fail and one succeed. */
const probeIntervalMs = Math.max(5000, Math.round(30_000 * timeScale));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// When the harness's own event loop stalls (it also runs the PostgreSQL proxy, the provider
// stand-ins and the observer): a delivery's 3 s timeout is a timer of this loop, so a stall
// here can abort a request whose answer has already arrived. Written to harness-lag.jsonl.
const harnessLag: Array<{ at: number; lagMs: number }> = [];
{
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    const lag = Math.round(now - last - 50);
    last = now;
    if (lag > 100) harnessLag.push({ at: Date.now(), lagMs: lag });
  }, 50).unref();
}
const log = (line: string) => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}`);

interface Harness {
  providers: Providers;
  database: TestDatabase;
  proxy: TcpProxy;
  redis: PrivateRedis;
  instances: AppInstance[];
  observer: Observer;
  logDir: string;
  redisPrefix: string;
  exits: ExitRecord[];
}

async function backlog(h: Harness, sql: pg.Client): Promise<Record<string, number>> {
  const count = async (text: string) => Number((await sql.query<{ n: string }>(text)).rows[0]!.n);
  let spooledRedis = 0;
  const redis = new Redis(h.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await redis.connect();
    spooledRedis = await redis.llen(`${h.redisPrefix}:inbox-spool`);
  } catch {
    spooledRedis = -1;
  } finally {
    redis.disconnect();
  }
  let spooledFiles = 0;
  for (const instance of h.instances) {
    const text = await readFile(join(h.logDir, instance.name, 'inbox-spool.jsonl'), 'utf8').catch(() => '');
    spooledFiles += text.split('\n').filter(Boolean).length;
  }
  return {
    'outbox rows unsent': await count(`SELECT count(*) AS n FROM outbound_messages WHERE status IN ('pending','failed','unknown','sending')`),
    'inbox rows unprocessed': await count(`SELECT count(*) AS n FROM inbound_events WHERE status IN ('received','failed')`),
    'queued deliveries open': await count(`SELECT count(*) AS n FROM webhook_deliveries WHERE status IN ('pending','processing','failed')`),
    'events spooled in Redis': Math.max(0, spooledRedis),
    'events spooled in files': spooledFiles,
  };
}

/** Work the app does on a timer of its own: the outbox's retries (backoff from 30 s) and the sweep that drains the spool (every 30 s). */
const periodicWork = new Set(['outbox rows unsent', 'events spooled in Redis', 'events spooled in files']);

/**
 * Waits until the work is settled (twice in a row) and every instance is ready, or the cap.
 * Between scenarios (`periodic: 'later'`) work the app picks up on a timer of its own
 * (outbox retries, the spool's sweep, up to 30 s away) does not hold the next scenario back:
 * it is done during the next one, and every text and event is judged after the final drain
 * (phones are unique per scenario). The final drain waits for everything.
 */
async function drain(h: Harness, sql: pg.Client, capMs: number, periodic: 'now' | 'later' = 'now'): Promise<Record<string, number>> {
  const until = Date.now() + capMs;
  let quiet = 0;
  let last: Record<string, number> = {};
  while (Date.now() < until) {
    last = await backlog(h, sql).catch(() => ({ 'database unreadable': 1 }));
    const settled = Object.entries(last).every(([k, n]) => n === 0 || (periodic === 'later' && periodicWork.has(k)));
    const idle = settled && h.instances.every((i) => h.observer.isReady(i.name));
    quiet = idle ? quiet + 1 : 0;
    if (quiet >= 2) break;
    await sleep(1000);
  }
  return last;
}

/** Onboards businesses over HTTP to COMPLETE, exactly as an owner does (no faults yet). */
async function onboard(h: Harness, signing: Signing, count: number): Promise<LiveBusiness[]> {
  const first = h.instances[0]!;
  const numbers = new Set<string>();
  while (numbers.size < count + 5) numbers.add(`+1800555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`);
  const added = await fetch(`${first.url}/api/admin/numbers`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ numbers: [...numbers] }),
  });
  if (added.status !== 201) throw new Error(`could not add pool numbers: ${added.status} ${await added.text()}`);
  // The owners sign up side by side (each one's texts in order), as owners do.
  const signUp = async (i: number): Promise<LiveBusiness> => {
    const owner = phone();
    const name = `Chaos Plumbing ${String.fromCharCode(65 + i)}`;
    const say = async (body: string) => {
      const d = await deliverOnce(
        first,
        twilioRequest(signing, 'twilio_sms', '/sms', smsParams(signing, { sid: messageSid(), from: owner, to: systemNumber, body })),
        'setup',
        'first',
      );
      if (d.status !== 200 || d.messages.length !== 1) throw new Error(`onboarding "${body}" answered ${d.status}: ${d.messages.join(' | ')}`);
      return d.messages[0]!;
    };
    await say('Hi');
    await say(name);
    const number = /assistant number is (\+\d+)/.exec(await say('We serve Springfield'))?.[1];
    const clientId = /client_reference_id=([^\s&]+)/.exec(await say('YES'))?.[1];
    if (number === undefined || clientId === undefined) throw new Error('onboarding did not allocate a number or offer a payment link');
    const paid = await deliverOnce(first, stripeRequest(signing, checkoutCompleted(decodeURIComponent(clientId))), 'setup', 'first');
    const called = await deliverOnce(
      first,
      twilioRequest(signing, 'twilio_voice', '/api/twilio/status', callParams(signing, { sid: callSid(), from: owner, to: number, status: 'completed' })),
      'setup',
      'first',
    );
    if (paid.status !== 200 || called.status !== 200) throw new Error(`onboarding payment ${paid.status}, test call ${called.status}`);
    return { name, owner, number };
  };
  return Promise.all(Array.from({ length: count }, (_, i) => signUp(i)));
}

async function runScenario(
  h: Harness,
  scenario: Scenario,
  ctx: {
    signing: Signing;
    businesses: LiveBusiness[];
    blockedSender: string;
    sql: pg.Client;
    outage: { on(): void; off(): void };
    usedPhones: Set<string>;
  },
) {
  log(`scenario ${scenario.name}: ${scenario.description} (traffic ${Math.round(scenario.trafficMs / 1000)} s)`);
  const start = Date.now();
  const windows: FaultWindow[] = [];
  const lb = new LoadBalancer(h.instances, h.observer);
  // Twilio's status callbacks go to the public URL: the harness posts them through the load balancer, signed.
  const postReceipt = async (message: FakeTwilioMessage, status: string, errorCode?: number): Promise<boolean> => {
    if (message.statusCallback === undefined) return false;
    const url = new URL(message.statusCallback);
    const params: Record<string, string> = {
      AccountSid: ctx.signing.twilioAccountSid,
      ApiVersion: '2010-04-01',
      From: message.from ?? '',
      MessageSid: message.sid,
      MessageStatus: status,
      SmsSid: message.sid,
      SmsStatus: status,
      To: message.to,
      ...(errorCode === undefined ? {} : { ErrorCode: String(errorCode) }),
    };
    const answers = await deliverWithRetry(lb, twilioRequest(ctx.signing, 'twilio_sms', `${url.pathname}${url.search}`, params), message.sid, 'first');
    return answers.some((d) => typeof d.status === 'number' && d.status >= 200 && d.status < 300);
  };
  const { blockedSender } = ctx;
  const targets: FaultTargets = {
    redis: h.redis,
    postgresProxy: h.proxy,
    providers: [h.providers.twilio, h.providers.slack],
    instances: h.instances,
    twilio: h.providers.twilio,
    blockedSender,
    probeWaitMs: 2 * probeIntervalMs + 30_000,
    postReceipt,
    senderHalted: () =>
      ctx.sql.query('SELECT 1 FROM sms_sender_halts WHERE from_phone = $1 AND active', [blockedSender]).then(
        (r) => r.rowCount !== 0,
        () => true,
      ),
  };
  const faults = Promise.all(scenario.faults.map((plan) => runFault(plan, targets, ctx.outage, start, windows)));
  // During a carrier block, a recipient of the blocked sender texts STOP (at 40 % of the block).
  const optOuts = Promise.all(
    scenario.faults
      .filter((plan) => plan.kind === 'sender_blocked')
      .map(async (plan) => {
        await sleep(Math.max(0, start + plan.atMs + plan.windowMs * 0.4 - Date.now()));
        return optOutDuringBlock({ lb, signing: ctx.signing, sender: blockedSender, usedPhones: ctx.usedPhones });
      }),
  );
  const traffic = await runTraffic({
    lb,
    signing: ctx.signing,
    systemNumber,
    businesses: ctx.businesses,
    durationMs: scenario.trafficMs,
    ratePerSec,
    usedPhones: ctx.usedPhones,
  });
  const trafficEnd = Date.now();
  log(
    `scenario ${scenario.name}: ${traffic.events.length} events, ${traffic.deliveries.length} deliveries; draining (at most ${Math.round(drainCapMs / 1000)} s)`,
  );
  // A trickle of traffic goes on while the faults heal and the backlog drains: it measures
  // when service recovers, and its events are judged like the others.
  let drained = false;
  const trickle = runTraffic({
    lb,
    signing: ctx.signing,
    systemNumber,
    businesses: ctx.businesses,
    durationMs: 10 * 60_000,
    ratePerSec: 1,
    usedPhones: ctx.usedPhones,
    stop: () => drained,
  });
  await faults;
  const left = await drain(h, ctx.sql, drainCapMs, 'later');
  drained = true;
  const late = await trickle;
  traffic.events.push(...late.events);
  traffic.deliveries.push(...late.deliveries);
  const stops = await optOuts;
  for (const stop of stops) traffic.deliveries.push(...stop.deliveries);
  const drainEnd = Date.now();
  log(`scenario ${scenario.name}: drained in ${Math.round((drainEnd - trafficEnd) / 1000)} s; left ${JSON.stringify(left)}`);
  return { start, trafficEnd, drainEnd, windows, traffic, backlog: left, blockedSender, optOuts: stops.map(({ phone, stopAt }) => ({ phone, stopAt })) };
}

async function main(): Promise<number> {
  if (!(await requirePostgres())) return 2;
  const started = Date.now();
  const loadAtStart = loadavg()[0]!;
  const selected = scenarios(timeScale).filter((s) => only.length === 0 || only.includes(s.name));
  if (selected.length === 0) throw new Error(`no scenario matches CHAOS_SCENARIOS=${only.join(',')}`);
  const reportDir =
    process.env.CHAOS_REPORT_DIR ?? (timeScale === 1 && only.length === 0 ? join(repoRoot, 'reports', 'chaos') : join(tmpdir(), 'chaos-report'));
  const logDir = await mkdtemp(join(tmpdir(), 'chaos-'));
  log(`mode ${quick ? 'quick' : 'full'} (time scale ${timeScale}), ${selected.length} scenario(s), logs in ${logDir}`);

  const providers = await startProviders();
  const database = await createTestDatabase('chaos');
  const cleanups: Array<() => Promise<unknown>> = [];
  cleanups.push(() => providers.close());
  if (process.env.CHAOS_KEEP !== '1')
    cleanups.push(
      () => database.drop(),
      () => rm(logDir, { recursive: true, force: true }),
    );
  const sql = new pg.Client({ connectionString: database.url });
  sql.on('error', (error) => log(`harness database connection: ${error.message}`));
  cleanups.unshift(() => sql.end());
  try {
    // Migrated once with the app's own migrator (the instances find nothing to apply).
    const logger = createLogger('warn');
    const migrated = await openDatabase({
      databaseUrl: database.url,
      pgliteDir: 'memory://',
      logger,
      safeCall: createSafeCall({ registry: new BreakerRegistry(), logger }),
    });
    await migrated.close();
    await sql.connect();
    const target = new URL(database.url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    cleanups.unshift(() => proxy.close());
    const redis = await startPrivateRedis();
    cleanups.unshift(() => redis.stop());
    const redisPrefix = `chaos-${runId()}`;
    const exits: ExitRecord[] = [];
    const env = {
      NODE_ENV: 'production',
      PUBLIC_BASE_URL: publicBaseUrl,
      DATABASE_URL: proxy.url(database.url),
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redisPrefix,
      TWILIO_FROM_NUMBER: systemNumber,
      ALERT_SMS_TO: adminPhone,
      ADMIN_TOKEN: adminToken,
      LOG_LEVEL: 'info',
      ...providers.env(),
      DELIVERABILITY_PROBE_AFTER_MS: String(probeIntervalMs),
      DELIVERABILITY_PROBE_INTERVAL_MS: String(probeIntervalMs),
    };
    log('starting 3 app instances');
    const instances = await startCluster(instanceCount, env, logDir, exits);
    cleanups.unshift(() => Promise.all(instances.map((i) => i.stop())));
    const observer = new Observer(instances, adminToken);
    observer.start();
    cleanups.unshift(() => observer.stop());
    const h: Harness = { providers, database, proxy, redis, instances, observer, logDir, redisPrefix, exits };
    const signing: Signing = {
      publicBaseUrl,
      twilioAuthToken: providers.twilio.authToken,
      twilioAccountSid: providers.twilio.accountSid,
      slackSigningSecret: providers.slackSigningSecret,
      stripeWebhookSecret: providers.stripeWebhookSecret,
    };
    const businesses = await onboard(h, signing, 4);
    log(`onboarded ${businesses.length} live businesses`);
    await drain(h, sql, drainCapMs);
    const outage = providerOutageSwitch([providers.twilio, providers.slack]);
    const usedPhones = new Set<string>([systemNumber, adminPhone, ...businesses.flatMap((b) => [b.owner, b.number])]);

    const runs: Array<{ scenario: Scenario } & Awaited<ReturnType<typeof runScenario>>> = [];
    const blockedSender = businesses[0]!.number;
    for (const lanes of schedule(selected)) {
      const sideBySide = lanes.length > 1;
      if (sideBySide) log(`side by side: ${lanes.map((lane) => lane.map((s) => s.name).join(' then ')).join(' | ')}`);
      const laneRuns = await Promise.all(
        lanes.map(async (lane) => {
          const done: typeof runs = [];
          for (const scenario of lane) {
            // Beside a carrier block, only the blocked sender's own scenario texts from it.
            const own = !sideBySide || scenario.faults.some((f) => f.kind === 'sender_blocked');
            const laneBusinesses = own ? businesses : businesses.filter((b) => b.number !== blockedSender);
            done.push({ scenario, ...(await runScenario(h, scenario, { signing, businesses: laneBusinesses, blockedSender, sql, outage, usedPhones })) });
          }
          return done;
        }),
      );
      runs.push(...laneRuns.flat());
    }
    log(`final drain (at most ${Math.round(finalDrainCapMs / 1000)} s)`);
    const finalBacklog = await drain(h, sql, finalDrainCapMs);
    await observer.stop();
    await closeDeliveries();
    const stripeRuns = await stripeHandlerRuns(logDir, instances);

    // Judged at the end: a text that went out late still counts (phones are unique per scenario).
    const alerts = deliveredAlerts(providers.slack, providers.twilio, providers.slackAlertsChannel, adminPhone);
    const records: ScenarioRecord[] = [];
    for (const run of runs) {
      const ids = run.traffic.events.filter((e) => e.kind === 'slack').map((e) => e.id);
      const stored = await sql.query<{ event_id: string }>('SELECT event_id FROM slack_signals WHERE event_id = ANY($1)', [ids]);
      records.push({
        name: run.scenario.name,
        description: run.scenario.description,
        start: run.start,
        trafficEnd: run.trafficEnd,
        drainEnd: run.drainEnd,
        windows: run.windows,
        events: run.traffic.events,
        deliveries: run.traffic.deliveries,
        sent: providers.twilio.messages
          .filter((m) => m.createdAt.getTime() >= run.start)
          .map((m) => ({ to: m.to, from: m.from, body: m.body, at: m.createdAt.getTime(), status: m.status })),
        alerts: alerts.filter((a) => a.at >= run.start && a.at <= run.drainEnd),
        samples: observer.samples.filter((s) => s.at >= run.start && s.at <= run.drainEnd),
        exits: exits.filter((e) => e.at >= run.start && e.at <= run.drainEnd),
        database: { slackSignals: new Set(stored.rows.map((r) => r.event_id)), backlog: run.backlog },
        instances: instances.map((i) => i.name),
        carrierBlocks: await carrierBlocks(sql, run),
        stripeRuns,
      });
    }
    const figures = records.map(evaluate);
    const strayExits = exits.filter((e) => !e.expected && !records.some((r) => e.at >= r.start && e.at <= r.drainEnd));
    const leftover = Object.entries(finalBacklog).filter(([, n]) => n > 0);
    const elapsedMs = Date.now() - started;
    const runViolations = [
      ...(elapsedMs > budgetMs ? [`the run took ${Math.round(elapsedMs / 1000)} s before cleanup, over its ${Math.round(budgetMs / 1000)} s budget`] : []),
      ...strayExits.map((e) => `${e.instance} crashed outside a scenario (exit code ${e.code}, signal ${e.signal})`),
      ...(leftover.length === 0
        ? []
        : [`work left after the final drain (${Math.round(finalDrainCapMs / 1000)} s): ${leftover.map(([k, n]) => `${n} ${k}`).join(', ')}`]),
    ];
    const report: RunReport = {
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date().toISOString(),
      durationSec: Math.round((Date.now() - started) / 1000),
      mode: timeScale === 1 ? 'full' : 'quick',
      timeScale,
      instances: instanceCount,
      commit: gitCommit(),
      loadAverage: [Math.round(loadAtStart * 10) / 10, Math.round(loadavg()[0]! * 10) / 10],
      budgetSec: Math.round(budgetMs / 1000),
      sideBySide: schedule(selected)
        .filter((lanes) => lanes.length > 1)
        .map((lanes) => lanes.map((lane) => lane.map((s) => s.name).join(' then ')).join(' beside ')),
      harnessStalls: { count: harnessLag.length, maxMs: Math.max(0, ...harnessLag.map((l) => l.lagMs)) },
      scenarios: figures,
      finalBacklog,
      runViolations,
      passed: figures.every((f) => f.violations.length === 0) && runViolations.length === 0,
    };
    await writeReport(reportDir, report, records);
    // Every delivery as the harness timed it, beside the instances' logs (kept with CHAOS_KEEP=1).
    await writeFile(
      join(logDir, 'deliveries.jsonl'),
      runs
        .flatMap((r) => r.traffic.deliveries)
        .map((d) => JSON.stringify(d))
        .join('\n'),
    );
    await writeFile(join(logDir, 'harness-lag.jsonl'), harnessLag.map((l) => JSON.stringify(l)).join('\n'));
    log(`harness event loop stalled > 100 ms ${harnessLag.length} times, max ${Math.max(0, ...harnessLag.map((l) => l.lagMs))} ms`);
    for (const f of figures) {
      log(`${f.name}: ${f.requests} requests, lost ${f.lost}, doubled ${f.doubled}, ${f.violations.length} violation(s)`);
      for (const v of f.violations) console.log(`  VIOLATION ${f.name}: ${v}`);
    }
    for (const v of runViolations) console.log(`  VIOLATION (run): ${v}`);
    log(`report written to ${reportDir} (chaos.md, chaos.svg, chaos.json) in ${report.durationSec} s: ${report.passed ? 'PASSED' : 'FAILED'}`);
    return report.passed ? 0 : 1;
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((error: unknown) => log(`cleanup failed: ${String(error)}`));
  }
}

/**
 * The order of the run: one step per scenario, except the overlapping ones, which share a
 * step as lanes (each lane runs its scenarios in turn), at the place of the first of them.
 */
function schedule(selected: readonly Scenario[]): Scenario[][][] {
  const steps: Scenario[][][] = [];
  const placed = new Set<string>();
  for (const scenario of selected) {
    if (placed.has(scenario.name)) continue;
    const group = overlapping.some((lane) => lane.includes(scenario.name)) ? overlapping : [[scenario.name]];
    const lanes = group.map((lane) => selected.filter((s) => lane.includes(s.name))).filter((lane) => lane.length > 0);
    for (const lane of lanes) for (const s of lane) placed.add(s.name);
    steps.push(lanes);
  }
  return steps;
}

/**
 * How many times each Stripe event's handler ran to its end, from the instances' logs (the
 * app logs "Stripe event processed" once per run; a duplicate the dedup replays does not
 * run it). A SIGKILLed instance's lines are kept: its log file is appended to on restart.
 */
async function stripeHandlerRuns(logDir: string, instances: readonly AppInstance[]): Promise<Map<string, number>> {
  const runs = new Map<string, number>();
  for (const instance of instances) {
    const text = await readFile(join(logDir, `${instance.name}.log`), 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (!line.includes('Stripe event processed')) continue;
      try {
        const entry = JSON.parse(line) as { msg?: string; eventId?: string };
        if (entry.msg === 'Stripe event processed' && typeof entry.eventId === 'string') runs.set(entry.eventId, (runs.get(entry.eventId) ?? 0) + 1);
      } catch {
        // A line cut by a SIGKILL mid-write: not a finished run.
      }
    }
  }
  return runs;
}

/** Each carrier block of a scenario, with the blocked sender's halt row as the app left it. */
async function carrierBlocks(
  sql: pg.Client,
  run: { windows: readonly FaultWindow[]; blockedSender: string; optOuts: CarrierBlockRecord['optOuts'] },
): Promise<CarrierBlockRecord[]> {
  const blocks: CarrierBlockRecord[] = [];
  for (const w of run.windows.filter((w) => w.kind === 'sender_blocked')) {
    const { rows } = await sql.query<{ halted_at: Date; resumed_at: Date | null; resumed_by: string | null }>(
      'SELECT halted_at, resumed_at, resumed_by FROM sms_sender_halts WHERE from_phone = $1',
      [run.blockedSender],
    );
    const row = rows[0];
    blocks.push({
      sender: run.blockedSender,
      start: w.start,
      end: w.end,
      probeIntervalMs,
      halt: row === undefined ? undefined : { haltedAt: row.halted_at.getTime(), resumedAt: row.resumed_at?.getTime() ?? null, resumedBy: row.resumed_by },
      optOuts: run.optOuts,
    });
  }
  return blocks;
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

// A hard bound on the whole run, whatever hangs (about 10 minutes on a quiet 2-core machine;
// instance restarts and drains stretch it on a busy one).
const maxMinutes = Number(process.env.CHAOS_MAX_MINUTES ?? 25);
const bound = setTimeout(() => {
  console.error(`[chaos] the run exceeded its ${maxMinutes}-minute bound (CHAOS_MAX_MINUTES); giving up`);
  process.exit(2);
}, maxMinutes * 60_000);
bound.unref();

const runStarted = Date.now();
main().then(
  (code) => {
    // The whole run, cleanup included, against the issue's bound (under 10 minutes).
    const totalMs = Date.now() - runStarted;
    const within = totalMs <= budgetMs;
    log(
      `total run time ${Math.round(totalMs / 1000)} s (budget ${Math.round(budgetMs / 1000)} s, load average ${loadavg()[0]!.toFixed(1)}): ${within ? 'within' : 'OVER'} budget`,
    );
    if (!within) console.log(`  VIOLATION (run): the harness took ${Math.round(totalMs / 1000)} s, over its ${Math.round(budgetMs / 1000)} s budget`);
    process.exit(code === 0 && !within ? 1 : code);
  },
  (error: unknown) => {
    console.error('[chaos] the harness failed:', error);
    process.exit(2);
  },
);
