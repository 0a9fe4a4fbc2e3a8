// The soak mode of `pnpm bench:app` (issue 12, "app RSS flat within 10 % over 10 minutes
// of steady traffic"): BENCH_SOAK_SECONDS=600 pnpm bench:app.
//
// Starts the app as run.ts does (its own database on DATABASE_URL's server, migrated by
// the app's migrator and dropped at the end; a private redis-server; the fake Twilio), with
// soak-probe.ts loaded into it, and drives signed /sms traffic (sms-traffic.ts: new phones,
// onboarding replies, 10 % Twilio retries) at a fixed, moderate rate. After a warm-up and
// two settling periods (each opened by a forced GC), it samples every
// BENCH_SOAK_SAMPLE_SECONDS for BENCH_SOAK_SECONDS: the app's RSS (from /proc), its V8 heap as the traffic left it, and
// its live heap after a forced full GC. Prints each sample, then first/last/max, the growth
// last/first (and of a minute's mean at each end) and a least-squares slope.
// Not a test: it asserts nothing; it exits 1 when a request fails.
//
// Knobs: BENCH_SOAK_SECONDS (length of the sampled part), BENCH_SOAK_RATE requests/s (20),
// BENCH_SOAK_CONCURRENCY most requests in flight (8), BENCH_SOAK_WARMUP_SECONDS (180),
// BENCH_SOAK_SAMPLE_SECONDS (10), BENCH_SOAK_SNAPSHOT_DIR: write a heap snapshot of the app
// there at the first and the last sample (open both in Chrome DevTools, "Comparison"); taking
// one raises the app's RSS for good (about 170 MiB in one run), so such a run's RSS says nothing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { benchAppEnv } from './app-env.ts';
import { postSms } from './post-sms.ts';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '../../tools/test-support/src/test-database.ts';
import { freePort } from '../../tools/test-support/src/free-port.ts';
import { startPrivateRedis } from '../../tools/test-support/src/private-redis.ts';
import { startFakeTwilio } from '../../tools/test-support/src/fake-twilio.ts';
import { migrate } from '../../examples/express-app/src/db/migrator.ts';
import { postgresSession } from '../../examples/express-app/src/db/sql-session.ts';
import { createSmsTraffic } from './sms-traffic.ts';
import type { SoakProbeAsk, SoakProbeMemory, SoakProbeRequest } from './soak-probe.ts';

// A warm-up of 180 s, not 60: in the first minute V8 is still sizing the app's heap (heap
// total 65 -> 94 MiB, RSS 195 -> 219 MiB in one run), which a 60 s warm-up counted as growth
// (+22 % RSS over 600 s; +3.6 % after 180 s, the same hour, the same code).
const defaults = { rate: 20, concurrency: 8, warmupSeconds: 180, sampleSeconds: 10 };
const systemNumber = '+15550000000';
const appDir = fileURLToPath(new URL('../../examples/express-app/', import.meta.url));
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child: () => silent };
const MiB = 1024 * 1024;

interface Sample {
  readonly at: number;
  readonly requests: number;
  readonly memory: SoakProbeMemory;
}

/** Resident set size in bytes, from /proc (Linux); the probe's figure elsewhere. */
function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? Number.NaN : Number(match[1]) * 1024;
  } catch {
    return Number.NaN;
  }
}

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`Expected \`${name}\` to be a positive number, got ${JSON.stringify(raw)}.`);
  return value;
}

/** Least-squares slope of y over x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Asks the probe in the app's process; rejects after 30 s (a busy app answers late, not never). */
function createProbeClient(child: ChildProcess): (request: SoakProbeAsk) => Promise<{ memory?: SoakProbeMemory; file?: string }> {
  let nextId = 1;
  const waiting = new Map<number, (answer: { memory?: SoakProbeMemory; file?: string }) => void>();
  child.on('message', (message: { id: number; memory?: SoakProbeMemory; file?: string }) => {
    waiting.get(message.id)?.(message);
    waiting.delete(message.id);
  });
  return (req) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`the app's soak probe did not answer ${req.cmd} within 30 s`));
      }, 30_000);
      waiting.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      child.send({ ...req, id } satisfies SoakProbeRequest);
    });
}

/**
 * Runs the soak: BENCH_SOAK_SECONDS of steady signed /sms traffic against the app, its
 * memory sampled every BENCH_SOAK_SAMPLE_SECONDS after a warm-up.
 *
 * @param seconds - length of the sampled part, after the warm-up
 * @returns nothing; prints the samples and the summary, sets `process.exitCode` to 1 when a request failed
 * @example
 * ```ts
 * await soak(600); // what BENCH_SOAK_SECONDS=600 pnpm bench:app runs
 * ```
 */
export async function soak(seconds: number): Promise<void> {
  const rate = numberFromEnv('BENCH_SOAK_RATE', defaults.rate);
  const concurrency = Math.floor(numberFromEnv('BENCH_SOAK_CONCURRENCY', defaults.concurrency));
  const warmupSeconds = numberFromEnv('BENCH_SOAK_WARMUP_SECONDS', defaults.warmupSeconds);
  const sampleSeconds = numberFromEnv('BENCH_SOAK_SAMPLE_SECONDS', defaults.sampleSeconds);
  const snapshotDir = process.env.BENCH_SOAK_SNAPSHOT_DIR;
  const cleanups: Array<() => unknown> = [];
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(
    `bench:app soak  ${new Date().toISOString()}  ${rate} req/s, at most ${concurrency} in flight, ${warmupSeconds} s warm-up, then ${seconds} s sampled every ${sampleSeconds} s; load average ${load()}`,
  );
  try {
    const generated = spawnSync(process.execPath, ['scripts/generate-client.mjs'], { cwd: appDir, stdio: 'inherit' });
    if (generated.status !== 0) throw new Error("could not generate the app's Prisma client");
    const database = await createTestDatabase('bench_soak');
    cleanups.push(() => database.drop());
    const session = await postgresSession(database.url);
    try {
      await migrate(session, silent);
    } finally {
      await session.end();
    }
    const redis = await startPrivateRedis();
    cleanups.push(() => redis.stop());
    const fakeTwilio = await startFakeTwilio();
    cleanups.push(() => fakeTwilio.close());

    const appPort = await freePort();
    const publicBaseUrl = `http://127.0.0.1:${appPort}`;
    const probe = fileURLToPath(new URL('soak-probe.ts', import.meta.url));
    const appChild = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '--import', probe, 'src/main.ts'], {
      cwd: appDir,
      env: benchAppEnv({ port: appPort, databaseUrl: database.url, redisUrl: redis.url, keyPrefix: 'bench-soak', fakeTwilio, systemNumber }),
      // Logs go to /dev/null as in run.ts: pino still formats and writes every line.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    cleanups.push(async () => {
      if (appChild.exitCode !== null) return;
      appChild.kill('SIGTERM');
      await Promise.race([once(appChild, 'exit'), new Promise((r) => setTimeout(r, 15_000))]);
      if (appChild.exitCode === null) appChild.kill('SIGKILL');
    });
    const ask = createProbeClient(appChild);
    const readyBy = Date.now() + 120_000;
    for (;;) {
      if (appChild.exitCode !== null) throw new Error(`the app exited with ${appChild.exitCode} before it was ready`);
      if (
        await fetch(`${publicBaseUrl}/health/ready`).then(
          (r) => r.status === 200,
          () => false,
        )
      )
        break;
      if (Date.now() > readyBy) throw new Error('the app was not ready within 120 s');
      await new Promise((r) => setTimeout(r, 200));
    }

    // Fixed rate: workers claim send slots 1/rate apart; when the app falls behind, the
    // slots slip (the achieved rate is printed) rather than pile up in flight.
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    const url = `${publicBaseUrl}/sms`;
    const started = performance.now();
    const stopAt = started + (warmupSeconds + 2 * sampleSeconds + seconds) * 1000;
    let nextSlot = started;
    let sent = 0;
    let resent = 0;
    const failures = new Map<string, number>();
    const workers = Array.from({ length: concurrency }, async (_, w) => {
      const traffic = createSmsTraffic({ url, authToken: fakeTwilio.authToken, accountSid: fakeTwilio.accountSid, systemNumber }, 1000 + w);
      for (;;) {
        const slot = Math.max(nextSlot, performance.now());
        nextSlot = slot + 1000 / rate;
        if (slot >= stopAt) return;
        const wait = slot - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const delivery = traffic.next();
        let failure: string | undefined;
        try {
          const reply = await postSms(agent, appPort, delivery.body, delivery.headers, () => resent++);
          if (reply.status !== 200 || !reply.text.includes('<Response')) failure = `HTTP ${reply.status}`;
        } catch (error) {
          failure = (error as Error).message;
        }
        sent++;
        if (failure !== undefined) failures.set(failure, (failures.get(failure) ?? 0) + 1);
      }
    });

    const samples: Sample[] = [];
    const sampler = (async () => {
      await new Promise((r) => setTimeout(r, warmupSeconds * 1000));
      // Two settling periods, each opened by a full GC, before the first sample, so that
      // the warm-up's garbage is not counted. Even so, in every run on the reference machine
      // the first sample read 40-60 MiB above the second (native memory, not V8's heap:
      // heapTotal did not move) whatever the settling time; hence the minute's mean at each
      // end in the summary as well as the first and last samples.
      for (let settle = 0; settle < 2; settle++) {
        await ask({ cmd: 'memory' });
        await new Promise((r) => setTimeout(r, sampleSeconds * 1000));
      }
      const first = performance.now();
      for (let i = 0; ; i++) {
        const at = first + i * sampleSeconds * 1000;
        if (at > stopAt + 1000) return;
        const wait = at - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const rss = rssBytes(appChild.pid!);
        const { memory } = await ask({ cmd: 'memory' });
        const sample: Sample = { at: (performance.now() - first) / 1000, requests: sent, memory: { ...memory!, rss: Number.isNaN(rss) ? memory!.rss : rss } };
        samples.push(sample);
        console.log(
          `t=${sample.at.toFixed(0).padStart(4)} s  requests ${String(sample.requests).padStart(6)}  rss ${(sample.memory.rss / MiB).toFixed(1)} MiB  heap ${(sample.memory.heapUsed / MiB).toFixed(1)}/${(sample.memory.heapTotal / MiB).toFixed(1)} MiB  live heap ${(sample.memory.liveHeapUsed / MiB).toFixed(1)} MiB  external ${(sample.memory.external / MiB).toFixed(1)} MiB  load ${load()}`,
        );
        if (snapshotDir !== undefined && (i === 0 || at + sampleSeconds * 1000 > stopAt + 1000)) {
          const { file } = await ask({ cmd: 'snapshot', file: join(snapshotDir, `soak-${i === 0 ? 'first' : 'last'}-${appChild.pid}.heapsnapshot`) });
          console.log(`  heap snapshot: ${file}`);
        }
      }
    })();
    await Promise.all([...workers, sampler]);
    agent.destroy();
    const elapsed = (performance.now() - started) / 1000;

    if (samples.length < 2) throw new Error('fewer than two samples: raise BENCH_SOAK_SECONDS');
    const first = samples[0]!;
    const last = samples.at(-1)!;
    const minutes = samples.map((s) => s.at / 60);
    const line = (name: string, pick: (m: SoakProbeMemory) => number) => {
      const values = samples.map((s) => pick(s.memory) / MiB);
      return `${name}: first ${values[0]!.toFixed(1)} MiB, last ${values.at(-1)!.toFixed(1)} MiB, max ${Math.max(...values).toFixed(1)} MiB, growth last/first ${(values.at(-1)! / values[0]!).toFixed(3)}, trend ${slope(minutes, values) >= 0 ? '+' : ''}${slope(minutes, values).toFixed(2)} MiB/min`;
    };
    console.log('');
    console.log(
      `soak: ${sent} requests in ${elapsed.toFixed(0)} s (${(sent / elapsed).toFixed(1)} req/s achieved of ${rate}); ${samples.length} samples over ${(last.at - first.at).toFixed(0)} s after ${warmupSeconds} s warm-up`,
    );
    console.log(line('rss', (m) => m.rss));
    console.log(line('heap used', (m) => m.heapUsed));
    console.log(line('live heap (after full GC)', (m) => m.liveHeapUsed));
    // A minute's mean at each end as well: one sample can sit on either side of a major GC.
    const window = Math.max(1, Math.min(Math.floor(samples.length / 3), Math.round(60 / sampleSeconds)));
    const mean = (part: Sample[]) => part.reduce((sum, s) => sum + s.memory.rss, 0) / part.length;
    const growth = last.memory.rss / first.memory.rss;
    const meanGrowth = mean(samples.slice(-window)) / mean(samples.slice(0, window));
    console.log(
      `RSS growth over the sampled part: ${((growth - 1) * 100).toFixed(1)} % last/first sample, ${((meanGrowth - 1) * 100).toFixed(1)} % mean of the last ${window} samples / mean of the first ${window} (goal: within 10 %)`,
    );
    console.log(
      `failures: ${[...failures].map(([f, n]) => `${n}x ${f}`).join(', ') || 'none'}; resent after ECONNRESET on a reused keep-alive socket: ${resent}; load average at the end: ${load()}`,
    );
    if (failures.size > 0) process.exitCode = 1;
  } finally {
    for (const step of cleanups.reverse())
      await Promise.resolve()
        .then(step)
        .catch((error: unknown) => console.error(`cleanup: ${(error as Error).message}`));
  }
}
