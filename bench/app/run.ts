// `pnpm bench:app` (issue 12): the reference app's POST /sms against a bare Express
// handler, same machine, same run.
//
// - PostgreSQL: a database of its own on DATABASE_URL (default
//   postgresql://postgres@127.0.0.1:5432/test's server), migrated with the app's migrator,
//   dropped at the end. The app and the baseline each reach it through their own TCP proxy
//   that counts round trips, statements and transactions (pg-wire-counter.ts).
// - Redis: a private redis-server (tools/test-support) with a key prefix of its own, so
//   INFO commandstats counts this app's commands and nobody else's.
// - The app runs as `pnpm start` runs it (node --import tsx src/main.ts, built packages),
//   with every Twilio variable set (the outbox talks to a local fake Twilio); the baseline
//   (baseline-server.ts) in a second process.
// - Load: signed /sms deliveries (sms-traffic.ts) at fixed concurrency over keep-alive
//   connections, in rounds that alternate which side goes first, each bounded by a
//   request count and a time cap. Loopback only.
//
// Prints throughput, p50/p99, the app/baseline ratios, and per request: database round
// trips, statements, transactions, Redis commands; plus the app's CPU and RSS. Not a test:
// it asserts nothing but exits 1 when a request fails.
//
// Knobs: BENCH_ROUNDS (6), BENCH_REQUESTS per side per round (3000), BENCH_ROUND_SECONDS
// cap (20), BENCH_CONCURRENCY (20), BENCH_WARMUP (300); BENCH_TRACE_SQL=1 also prints each
// distinct statement the app sent while measured, with how often per request;
// BENCH_APP_NODE_ARGS adds node flags to the app's process (a CPU profile).
// BENCH_SOAK_SECONDS=600 runs the memory soak instead (soak.ts: RSS and heap over steady traffic).
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Agent } from 'node:http';
import { randomBytes } from 'node:crypto';
import { benchAppEnv } from './app-env.ts';
import { postSms } from './post-sms.ts';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '../../tools/test-support/src/test-database.ts';
import { freePort } from '../../tools/test-support/src/free-port.ts';
import { startPrivateRedis, type PrivateRedis } from '../../tools/test-support/src/private-redis.ts';
import { startTcpProxy, type TcpProxy } from '../../tools/test-support/src/tcp-proxy.ts';
import { startFakeTwilio, type FakeTwilio } from '../../tools/test-support/src/fake-twilio.ts';
import { migrate } from '../../examples/express-app/src/db/migrator.ts';
import { postgresSession } from '../../examples/express-app/src/db/sql-session.ts';
import { createPgWireCounter, type PgWireCounts } from './pg-wire-counter.ts';
import { createSmsTraffic, type SmsKind } from './sms-traffic.ts';
import { cpuSeconds, cpuSecondsByName, machineBusySeconds, rssMiB, syscalls } from './proc-stats.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
// 3000, not 1000: a round of 1000 lasts about a second per side, and what the app leaves
// behind (PostgreSQL's WAL writer and checkpoints, its idle-time GC) then lands in the
// baseline's next round: 0.57-0.62x in rounds of 1000, 0.51-0.55x in rounds of 3000, the
// same hour (examples/express-app/README.md, "One round trip per message").
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 20);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 300);
const TRACE_SQL = process.env.BENCH_TRACE_SQL === '1';
const systemNumber = '+15550000000';

const appDir = fileURLToPath(new URL('../../examples/express-app/', import.meta.url));
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child: () => silent };

interface Target {
  readonly name: 'app' | 'baseline';
  readonly port: number;
  readonly pid: number;
  readonly counter: { counts(): PgWireCounts };
}

interface RoundResult {
  latencies: number[];
  seconds: number;
  failures: Map<string, number>;
  kinds: Record<SmsKind, number>;
}

const cleanups: Array<() => unknown> = [];
async function cleanup(): Promise<void> {
  for (const step of cleanups.reverse())
    await Promise.resolve()
      .then(step)
      .catch((error: unknown) => console.error(`cleanup: ${(error as Error).message}`));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/** Redis INFO commandstats as command -> calls. */
async function commandStats(port: number): Promise<Map<string, number>> {
  const { connect } = await import('node:net');
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    socket.once('connect', () => socket.write('INFO commandstats\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      const header = /^\$(\d+)\r\n/.exec(answer);
      if (header !== null && Buffer.byteLength(answer) >= header[0].length + Number(header[1]) + 2) {
        socket.destroy();
        resolve(answer);
      }
    });
    socket.once('error', reject);
  });
  const stats = new Map<string, number>();
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats.set(match[1]!, Number(match[2]));
  return stats;
}

function statsDelta(after: Map<string, number>, before: Map<string, number>, into: Map<string, number>): void {
  for (const [command, calls] of after) {
    if (command === 'info') continue;
    const delta = calls - (before.get(command) ?? 0);
    if (delta > 0) into.set(command, (into.get(command) ?? 0) + delta);
  }
}

async function waitFor(what: string, ms: number, check: () => Promise<boolean>, exited?: ChildProcess): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (exited !== undefined && exited.exitCode !== null) throw new Error(`${what}: the process exited with ${exited.exitCode}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`${what}: not ready within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

let seed = 1;

/** `total` deliveries (or until the time cap) to one target, CONCURRENCY at a time. */
async function round(target: Target, url: string, authToken: string, accountSid: string, total: number): Promise<RoundResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const result: RoundResult = { latencies: [], seconds: 0, failures: new Map(), kinds: { new: 0, reply: 0, duplicate: 0 } };
  const deadline = performance.now() + ROUND_SECONDS * 1000;
  let sent = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      const traffic = createSmsTraffic({ url, authToken, accountSid, systemNumber }, seed++);
      while (sent < total && performance.now() < deadline) {
        sent++;
        const delivery = traffic.next();
        const t0 = performance.now();
        let failure: string | undefined;
        try {
          const reply = await postSms(agent, target.port, delivery.body, delivery.headers);
          if (reply.status !== 200 || !reply.text.includes('<Response')) failure = `HTTP ${reply.status}`;
        } catch (error) {
          failure = (error as Error).message;
        }
        result.latencies.push(performance.now() - t0);
        result.kinds[delivery.kind]++;
        if (failure !== undefined) result.failures.set(failure, (result.failures.get(failure) ?? 0) + 1);
      }
    }),
  );
  result.seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return result;
}

async function main(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
  console.log(
    `bench:app  ${new Date().toISOString()}  load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (${spawnSync('nproc').stdout?.toString().trim()} cores)`,
  );

  // The app's Prisma client, as `pnpm start` generates it.
  const generated = spawnSync(process.execPath, ['scripts/generate-client.mjs'], { cwd: appDir, stdio: 'inherit' });
  if (generated.status !== 0) throw new Error("could not generate the app's Prisma client");

  let database: TestDatabase;
  try {
    database = await createTestDatabase('bench_app');
  } catch (error) {
    throw new Error(`PostgreSQL not reachable at ${adminUrl}: ${(error as Error).message}`);
  }
  cleanups.push(() => database.drop());
  const session = await postgresSession(database.url);
  try {
    const applied = await migrate(session, silent);
    await session.exec(
      'CREATE TABLE bench_baseline_inbox (message_sid TEXT PRIMARY KEY, from_phone TEXT NOT NULL, to_phone TEXT NOT NULL, body TEXT NOT NULL, params JSONB NOT NULL, received_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    console.log(`database ${database.name}: ${applied.length} migrations applied by the app's migrator`);
  } finally {
    await session.end();
  }

  const redis: PrivateRedis = await startPrivateRedis();
  cleanups.push(() => redis.stop());
  const pgTarget = new URL(database.url);
  const counters = { app: createPgWireCounter({ trace: TRACE_SQL }), baseline: createPgWireCounter() };
  const proxies: Record<'app' | 'baseline', TcpProxy> = {
    app: await startTcpProxy(pgTarget.hostname, Number(pgTarget.port || 5432), { tap: counters.app.tap }),
    baseline: await startTcpProxy(pgTarget.hostname, Number(pgTarget.port || 5432), { tap: counters.baseline.tap }),
  };
  cleanups.push(
    () => proxies.app.close(),
    () => proxies.baseline.close(),
  );
  const fakeTwilio: FakeTwilio = await startFakeTwilio();
  cleanups.push(() => fakeTwilio.close());

  // BENCH_NODE_ARGS="--max-semi-space-size=32" gives both sides the same node flags: a
  // deployment setting is compared with the baseline under the same setting.
  const bothNodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

  // The baseline.
  const baselineChild = fork(fileURLToPath(new URL('baseline-server.ts', import.meta.url)), [], {
    execArgv: [...bothNodeArgs, '--import', 'tsx'],
    env: { ...process.env, DATABASE_URL: proxies.baseline.url(database.url), POOL_SIZE: '10' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  cleanups.push(async () => {
    if (baselineChild.exitCode !== null) return;
    baselineChild.send({ cmd: 'stop' });
    await Promise.race([once(baselineChild, 'exit'), new Promise((r) => setTimeout(r, 5000))]);
    if (baselineChild.exitCode === null) baselineChild.kill();
  });
  const [{ port: baselinePort }] = (await Promise.race([
    once(baselineChild, 'message'),
    once(baselineChild, 'exit').then(() => {
      throw new Error('baseline exited before listening');
    }),
  ])) as [{ port: number }];

  // The app, as `pnpm start` runs it.
  const appPort = await freePort();
  const publicBaseUrl = `http://127.0.0.1:${appPort}`;
  const adminToken = randomBytes(24).toString('base64url');
  // BENCH_APP_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the app (NODE_OPTIONS refuses --cpu-prof).
  const appNodeArgs = (process.env.BENCH_APP_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const appChild: ChildProcess = spawn(process.execPath, [...bothNodeArgs, ...appNodeArgs, '--import', 'tsx', 'src/main.ts'], {
    cwd: appDir,
    env: benchAppEnv({
      port: appPort,
      databaseUrl: proxies.app.url(database.url),
      redisUrl: redis.url,
      keyPrefix: 'bench-app',
      fakeTwilio,
      systemNumber,
      adminToken,
    }),
    // Logs go to /dev/null: pino still formats and writes every line, the terminal does not.
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  cleanups.push(async () => {
    if (appChild.exitCode !== null) return;
    appChild.kill('SIGTERM');
    await Promise.race([once(appChild, 'exit'), new Promise((r) => setTimeout(r, 15_000))]);
    if (appChild.exitCode === null) appChild.kill('SIGKILL');
  });
  await waitFor('the app', 120_000, async () => (await fetch(`${publicBaseUrl}/health/ready`)).status === 200, appChild);

  const targets: Record<'app' | 'baseline', Target> = {
    app: { name: 'app', port: appPort, pid: appChild.pid!, counter: counters.app },
    baseline: { name: 'baseline', port: baselinePort, pid: baselineChild.pid!, counter: counters.baseline },
  };
  const urlOf = (t: Target) => (t.name === 'app' ? `${publicBaseUrl}/sms` : `http://127.0.0.1:${t.port}/sms`);
  const { accountSid, authToken } = fakeTwilio;

  for (const t of [targets.app, targets.baseline]) {
    const warm = await round(t, urlOf(t), authToken, accountSid, WARMUP);
    if (warm.failures.size > 0) throw new Error(`${t.name} warm-up failed: ${[...warm.failures].map(([f, n]) => `${n}x ${f}`).join(', ')}`);
  }

  interface Pooled extends RoundResult {
    pg: PgWireCounts;
    redis: Map<string, number>;
    cpu: number;
    syscalls: { reads: number; writes: number };
    machineCpu: number;
    /** CPU seconds of PostgreSQL (every backend), Redis (every server) and this process (the load generator and the PostgreSQL proxies). */
    elsewhere: { postgres: number; redis: number; generator: number };
  }
  const pooled: Record<'app' | 'baseline', Pooled> = {
    app: {
      latencies: [],
      seconds: 0,
      failures: new Map(),
      kinds: { new: 0, reply: 0, duplicate: 0 },
      pg: { connections: 0, roundTrips: 0, statements: 0, transactions: 0 },
      redis: new Map(),
      cpu: 0,
      syscalls: { reads: 0, writes: 0 },
      machineCpu: 0,
      elsewhere: { postgres: 0, redis: 0, generator: 0 },
    },
    baseline: {
      latencies: [],
      seconds: 0,
      failures: new Map(),
      kinds: { new: 0, reply: 0, duplicate: 0 },
      pg: { connections: 0, roundTrips: 0, statements: 0, transactions: 0 },
      redis: new Map(),
      cpu: 0,
      syscalls: { reads: 0, writes: 0 },
      machineCpu: 0,
      elsewhere: { postgres: 0, redis: 0, generator: 0 },
    },
  };
  const rssAtStart = rssMiB(targets.app.pid);
  const statementsAtStart = counters.app.statements();
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? [targets.app, targets.baseline] : [targets.baseline, targets.app];
    const rps: Record<string, number> = {};
    for (const t of order) {
      const pgBefore = t.counter.counts();
      const redisBefore = await commandStats(redis.port);
      const cpuBefore = cpuSeconds(t.pid);
      const syscallsBefore = syscalls(t.pid);
      const machineBefore = machineBusySeconds();
      const servicesBefore = cpuSecondsByName(['postgres', 'redis-server']);
      const generatorBefore = process.cpuUsage();
      const result = await round(t, urlOf(t), authToken, accountSid, REQUESTS);
      const generator = process.cpuUsage(generatorBefore);
      const servicesAfter = cpuSecondsByName(['postgres', 'redis-server']);
      const machineAfter = machineBusySeconds();
      const syscallsAfter = syscalls(t.pid);
      const cpuAfter = cpuSeconds(t.pid);
      const redisAfter = await commandStats(redis.port);
      const pgAfter = t.counter.counts();
      const into = pooled[t.name];
      into.latencies.push(...result.latencies);
      into.seconds += result.seconds;
      for (const [f, n] of result.failures) into.failures.set(f, (into.failures.get(f) ?? 0) + n);
      for (const k of ['new', 'reply', 'duplicate'] as const) into.kinds[k] += result.kinds[k];
      for (const k of ['connections', 'roundTrips', 'statements', 'transactions'] as const) into.pg[k] += pgAfter[k] - pgBefore[k];
      statsDelta(redisAfter, redisBefore, into.redis);
      into.cpu += cpuAfter - cpuBefore;
      into.syscalls.reads += syscallsAfter.reads - syscallsBefore.reads;
      into.syscalls.writes += syscallsAfter.writes - syscallsBefore.writes;
      into.machineCpu += machineAfter - machineBefore;
      into.elsewhere.postgres += servicesAfter.get('postgres')! - servicesBefore.get('postgres')!;
      into.elsewhere.redis += servicesAfter.get('redis-server')! - servicesBefore.get('redis-server')!;
      into.elsewhere.generator += (generator.user + generator.system) / 1e6;
      rps[t.name] = result.latencies.length / result.seconds;
    }
    ratios.push(rps.app! / rps.baseline!);
    console.log(
      `round ${r + 1}/${ROUNDS}: app ${Math.round(rps.app!)} req/s, baseline ${Math.round(rps.baseline!)} req/s, ratio ${(rps.app! / rps.baseline!).toFixed(3)}`,
    );
  }
  const rssAtEnd = rssMiB(targets.app.pid);

  const rows = (['app', 'baseline'] as const).map((name) => {
    const p = pooled[name];
    const sorted = [...p.latencies].sort((a, b) => a - b);
    const n = p.latencies.length;
    const redisCalls = [...p.redis.values()].reduce((a, b) => a + b, 0);
    return {
      name,
      n,
      rps: n / p.seconds,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      failures: [...p.failures].map(([f, c]) => `${c}x ${f}`).join(', ') || 'none',
      kinds: `${p.kinds.new} new, ${p.kinds.reply} replies, ${p.kinds.duplicate} duplicates`,
      roundTrips: p.pg.roundTrips / n,
      statements: p.pg.statements / n,
      transactions: p.pg.transactions / n,
      connections: p.pg.connections,
      redis: redisCalls / n,
      redisTop: [...p.redis]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([c, k]) => `${c} ${(k / n).toFixed(2)}`)
        .join(', '),
      cpu: p.cpu / p.seconds,
      // Process CPU time (user + system) per request: far less sensitive to a loaded machine than req/s.
      cpuMsPerRequest: (p.cpu * 1000) / n,
      machineMsPerRequest: (p.machineCpu * 1000) / n,
      postgresMsPerRequest: (p.elsewhere.postgres * 1000) / n,
      redisMsPerRequest: (p.elsewhere.redis * 1000) / n,
      generatorMsPerRequest: (p.elsewhere.generator * 1000) / n,
      readsPerRequest: p.syscalls.reads / n,
      writesPerRequest: p.syscalls.writes / n,
    };
  });
  const [app, baseline] = rows as [(typeof rows)[0], (typeof rows)[0]];
  ratios.sort((a, b) => a - b);

  console.log('');
  console.log(
    `POST /sms, ${CONCURRENCY} concurrent, ${ROUNDS} alternating rounds of up to ${REQUESTS} requests or ${ROUND_SECONDS} s per side (after ${WARMUP} warm-up each)`,
  );
  console.table(
    rows.map((r) => ({
      side: r.name,
      requests: r.n,
      'req/s': Math.round(r.rps),
      'p50 ms': r.p50.toFixed(1),
      'p99 ms': r.p99.toFixed(1),
      'db round trips/req': r.roundTrips.toFixed(2),
      'db statements/req': r.statements.toFixed(2),
      'db transactions/req': r.transactions.toFixed(2),
      'redis cmds/req': r.redis.toFixed(2),
      'cpu (cores)': r.cpu.toFixed(2),
      'cpu ms/req': r.cpuMsPerRequest.toFixed(2),
      'machine cpu ms/req': r.machineMsPerRequest.toFixed(2),
      'reads/req': r.readsPerRequest.toFixed(2),
      'writes/req': r.writesPerRequest.toFixed(2),
    })),
  );
  for (const r of rows) console.log(`${r.name}: ${r.kinds}; failures: ${r.failures}; new db connections while measured: ${r.connections}`);
  console.log(`app Redis commands per request: ${app.redisTop || 'none'}`);
  if (TRACE_SQL) {
    console.log('app statements per request (Parse or simple Query text; a prepared statement re-run without Parse is not listed):');
    const measured = [...counters.app.statements()].map(([text, k]) => [text, k - (statementsAtStart.get(text) ?? 0)] as const).filter(([, k]) => k > 0);
    for (const [text, k] of measured.sort((a, b) => b[1] - a[1])) console.log(`  ${(k / app.n).toFixed(2)}  ${text.slice(0, 300)}`);
  }
  console.log(`app CPU per request: ${app.cpuMsPerRequest.toFixed(2)} ms (baseline ${baseline.cpuMsPerRequest.toFixed(2)} ms)`);
  const split = (r: typeof app) => {
    const other = r.machineMsPerRequest - r.cpuMsPerRequest - r.postgresMsPerRequest - r.redisMsPerRequest - r.generatorMsPerRequest;
    return `${r.machineMsPerRequest.toFixed(2)} ms = own process ${r.cpuMsPerRequest.toFixed(2)} + PostgreSQL ${r.postgresMsPerRequest.toFixed(2)} + Redis ${r.redisMsPerRequest.toFixed(2)} + load generator and proxy ${r.generatorMsPerRequest.toFixed(2)} + the rest ${other.toFixed(2)}`;
  };
  console.log(`machine CPU per request (2 cores, every process), app: ${split(app)}`);
  console.log(`machine CPU per request, baseline: ${split(baseline)}`);

  console.log(`app RSS: ${rssAtStart.toFixed(0)} MiB before the rounds, ${rssAtEnd.toFixed(0)} MiB after`);
  console.log(
    `ratio app/baseline: throughput ${(app.rps / baseline.rps).toFixed(3)}x (median of rounds ${ratios[Math.floor(ratios.length / 2)]!.toFixed(3)}; goal >= 0.6), p50 ${(app.p50 / baseline.p50).toFixed(2)}x, p99 ${(app.p99 / baseline.p99).toFixed(2)}x (goal <= 2)`,
  );
  console.log(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  if (app.failures !== 'none' || baseline.failures !== 'none') process.exitCode = 1;
}

try {
  // BENCH_SOAK_SECONDS: the memory soak instead of the rounds (soak.ts).
  const soakSeconds = Number(process.env.BENCH_SOAK_SECONDS ?? 0);
  await (soakSeconds > 0 ? (await import('./soak.ts')).soak(soakSeconds) : main());
} catch (error) {
  console.error(`bench:app failed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
process.exit();
