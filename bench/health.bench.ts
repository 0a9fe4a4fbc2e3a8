// @hardening/health under a probe storm (issue 5): /health/ready next to /health/live in
// the same run, 2,000 requests at 50 concurrency each, interleaved over several rounds,
// first with PostgreSQL healthy and then hanging (a TCP proxy that stops forwarding).
// Prints p50/p99 per endpoint and the ready/live ratio, how long the hang took to show
// as 503, and how many probes the database saw per cache period.
//
// The service runs in its own process (packages/health/bench/probe-server.ts, built
// package) so this load generator (plain node:http with a keep-alive agent) does not
// share its event loop. On 2 cores the generator itself sets the latency floor: compare
// the two endpoints, do not quote absolutes.
//
// And (issue 12), first, the bytes the handler allocates per call, per endpoint, from cache
// (packages/health/bench/allocations.ts, in a process of its own with a young generation
// large enough that a batch needs no GC).
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';

const REQUESTS = 2_000;
const CONCURRENCY = 50;
const ROUNDS = 5;
const CACHE_MS = 1_000;
const TIMEOUT_MS = 500;

// First, without any server (issue 12): the handler's own allocations per call.
const allocations = spawnSync(
  process.execPath,
  [
    '--expose-gc',
    '--min-semi-space-size=64',
    '--max-semi-space-size=64',
    '--import',
    'tsx',
    fileURLToPath(new URL('../packages/health/bench/allocations.ts', import.meta.url)),
  ],
  { encoding: 'utf8' },
);
if (allocations.status !== 0) {
  console.error(`allocation probe failed: ${allocations.stderr}`);
  process.exitCode = 1;
} else {
  console.log('bytes allocated per handler call (checks served from cache; median of 2,000-call batches without a GC):');
  console.table(
    allocations.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { endpoint: string; bytesPerCall: number }),
  );
}

const server = fileURLToPath(new URL('../packages/health/bench/probe-server.ts', import.meta.url));
const child: ChildProcess = fork(server, [], {
  execArgv: ['--import', 'tsx'],
  env: { ...process.env, CACHE_MS: String(CACHE_MS), TIMEOUT_MS: String(TIMEOUT_MS) },
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});

function ask<T>(message: Record<string, unknown>): Promise<T> {
  const id = Math.random().toString(36).slice(2);
  return new Promise((resolve, reject) => {
    const onMessage = (reply: { id?: string; error?: string } & T) => {
      if (reply?.id !== id) return;
      child.off('message', onMessage);
      if (reply.error !== undefined) reject(new Error(reply.error));
      else resolve(reply);
    };
    child.on('message', onMessage);
    child.send({ ...message, id });
  });
}

await new Promise<void>((resolve, reject) => {
  child.on('message', function onReady(m: { ready?: boolean }) {
    if (m?.ready) {
      child.off('message', onReady);
      resolve();
    }
  });
  child.once('exit', (code) => reject(new Error(`probe server exited with ${code}`)));
});
const { port } = await ask<{ port: number }>({ cmd: 'port' });
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

interface Sample {
  ms: number;
  status: number;
  at: number;
}

function probe(path: string): Promise<Sample> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ms: performance.now() - started, status: res.statusCode ?? 0, at: Date.now() }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `total` requests to `path`, `CONCURRENCY` at a time. */
async function storm(path: string, total = REQUESTS): Promise<{ samples: Sample[]; seconds: number }> {
  const samples: Sample[] = [];
  let sent = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (sent < total) {
        sent++;
        samples.push(await probe(path));
      }
    }),
  );
  return { samples, seconds: (performance.now() - started) / 1000 };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Row {
  endpoint: string;
  database: string;
  requests: number;
  statuses: string;
  p50: number;
  p99: number;
  rps: number;
}

async function phase(database: string): Promise<Row[]> {
  const pooled: Record<string, { samples: Sample[]; seconds: number }> = {
    '/health/live': { samples: [], seconds: 0 },
    '/health/ready': { samples: [], seconds: 0 },
  };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['/health/live', '/health/ready'] : ['/health/ready', '/health/live'];
    for (const path of order) {
      const { samples, seconds } = await storm(path);
      pooled[path]!.samples.push(...samples);
      pooled[path]!.seconds += seconds;
    }
  }
  return Object.entries(pooled).map(([endpoint, { samples, seconds }]) => {
    const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
    const counts = new Map<number, number>();
    for (const s of samples) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
    return {
      endpoint,
      database,
      requests: samples.length,
      statuses: [...counts].map(([status, n]) => `${n}x${status}`).join(' '),
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      rps: samples.length / seconds,
    };
  });
}

/** Probes per cache period: the average, and the most in any window of one period. */
function perPeriod(times: number[], from: number, to: number) {
  const inRange = times.filter((t) => t >= from && t <= to).sort((a, b) => a - b);
  let max = 0;
  for (let i = 0, j = 0; i < inRange.length; i++) {
    while (inRange[i]! - inRange[j]! >= CACHE_MS) j++;
    max = Math.max(max, i - j + 1);
  }
  return { count: inRange.length, average: inRange.length / ((to - from) / CACHE_MS), max };
}

// Warm-up (JIT, connections, the first database round-trip).
await storm('/health/live', 500);
const warm = await storm('/health/ready', 500);
if (warm.samples.some((s) => s.status !== 200)) {
  console.error('/health/ready is not 200 before the hang: is PostgreSQL running at DATABASE_URL (default 127.0.0.1:5432)?');
  await ask({ cmd: 'stop' }).catch(() => {});
  process.exit(1);
}

const healthyFrom = Date.now();
const healthy = await phase('healthy');
const healthyTo = Date.now();

const { hungAt } = await ask<{ hungAt: number }>({ cmd: 'hang' });
// A storm on readiness until the hang shows: the first 503 tells how long it took.
let firstFailure: number | undefined;
while (firstFailure === undefined && Date.now() - hungAt < 10_000) {
  const { samples } = await storm('/health/ready', 500);
  firstFailure = samples
    .filter((s) => s.status === 503)
    .map((s) => s.at)
    .sort((a, b) => a - b)[0];
}
const hangingFrom = Date.now();
const hanging = await phase('hanging');
const hangingTo = Date.now();
const { queries } = await ask<{ queries: number[] }>({ cmd: 'queries' });
await ask({ cmd: 'stop' }).catch(() => {});
agent.destroy();

const rows = [...healthy, ...hanging];
console.log(`probe storm: ${REQUESTS} requests x ${ROUNDS} rounds per endpoint, ${CONCURRENCY} concurrent; cacheMs ${CACHE_MS}, check timeoutMs ${TIMEOUT_MS}`);
console.table(
  rows.map((r) => ({
    endpoint: r.endpoint,
    database: r.database,
    requests: r.requests,
    statuses: r.statuses,
    'p50 ms': r.p50.toFixed(2),
    'p99 ms': r.p99.toFixed(2),
    'req/s': Math.round(r.rps),
  })),
);
for (const database of ['healthy', 'hanging']) {
  const live = rows.find((r) => r.database === database && r.endpoint === '/health/live')!;
  const ready = rows.find((r) => r.database === database && r.endpoint === '/health/ready')!;
  console.log(`ratio ready/live (${database}): p50 ${(ready.p50 / live.p50).toFixed(2)}x, p99 ${(ready.p99 / live.p99).toFixed(2)}x (target p99 <= 2x)`);
}
console.log(
  firstFailure === undefined
    ? 'hang: no 503 within 10 s'
    : `hang reported as 503 after ${firstFailure - hungAt} ms (bound: one cache period + the check timeout = ${CACHE_MS + TIMEOUT_MS} ms)`,
);
const h = perPeriod(queries, healthyFrom, healthyTo);
const g = perPeriod(queries, hangingFrom, hangingTo);
console.log(
  `database probes while healthy: ${h.count} in ${((healthyTo - healthyFrom) / 1000).toFixed(1)} s = ${h.average.toFixed(2)} per cache period on average, at most ${h.max} in any ${CACHE_MS} ms window`,
);
console.log(
  `database probes while hanging: ${g.count} in ${((hangingTo - hangingFrom) / 1000).toFixed(1)} s = ${g.average.toFixed(2)} per cache period on average, at most ${g.max} in any ${CACHE_MS} ms window`,
);
