// safeCall's overhead on the success path, side by side with the peers named in issue 9, in
// one run: bare `await fn()`, safeCall (retry + timeout + breaker + budget) with a work
// function that ignores the signal and with one that takes it (reads `signal.aborted`),
// cockatiel's wrap(retry, circuitBreaker, timeout), opossum's fire() with a timeout. Each
// is measured in several interleaved rounds and the median ns/call is reported, so a noisy
// neighbour hurts every contender alike; the ratios use the slower safeCall path. Then heap
// growth after 1 million calls of each path and after 10,000 named breakers.
//
// OpenTelemetry (issue 15): safeCall with no provider registered (the default contenders
// above), with the real OTel SDK registered (tracer provider with a batch processor whose
// exporter drops the spans, meter provider with a reader: every call makes a span, its
// events and a histogram point), and with a diagnostics_channel subscriber. To compare with
// code without the telemetry hooks in the same run, build another checkout (say the commit
// before telemetry) and pass its root: `BENCH_BASELINE=/path/to/checkout pnpm bench core`
// adds "safeCall, baseline checkout", which runs that checkout's own core and breaker.
//
// Two phases. Phase 1 runs only contenders that observe nothing, as in an application that
// never registers a provider: the no-provider cost is read here (the target: within 5 % of
// the baseline, as the median of the per-round ratios). Phase 2 adds the provider and the
// subscriber contenders (each in place only around its own rounds) and measures the
// no-provider path again, interleaved with them: V8 then compiles the shared safeCall code
// with the observed calls' type feedback too (a baseline copy has no observed calls to
// share it with), which an application that never registers a provider does not see.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { metrics, trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import CircuitBreakerOpossum from 'opossum';
import { ConsecutiveBreaker, ExponentialBackoff, TimeoutStrategy, circuitBreaker, handleAll, retry, timeout, wrap } from 'cockatiel';
import { BreakerRegistry } from '@hardening/circuit-breaker';
import { createSafeCall, safeCallChannels, silentLogger } from '@hardening/core';
import type * as Core from '@hardening/core';
import type * as Breaker from '@hardening/circuit-breaker';

const CALLS = 200_000;
const ROUNDS = 9;

// The measured work is an async function, as callers write it (not a pre-resolved promise).
// eslint-disable-next-line @typescript-eslint/require-await
const work = async () => 1;
// eslint-disable-next-line @typescript-eslint/require-await
const workWithSignal = async (signal: AbortSignal) => (signal.aborted ? 0 : 1);

const safeCall = createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger });
const cockatiel = wrap(
  retry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff({ initialDelay: 1000 }) }),
  circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(3) }),
  timeout(30_000, TimeoutStrategy.Aggressive),
);
const opossum = new CircuitBreakerOpossum(work, { timeout: 30_000, errorThresholdPercentage: 50, resetTimeout: 30_000 });

class IdleReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new BatchSpanProcessor({ export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} }, { maxQueueSize: 4096 })],
});
const meterProvider = new MeterProvider({ readers: [new IdleReader()] });
const withProvider = async <T>(run: () => Promise<T>): Promise<T> => {
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  try {
    return await run();
  } finally {
    trace.disable();
    metrics.disable();
  }
};
let channelMessages = 0;

const baselineRoot = process.env.BENCH_BASELINE;
const fromBaseline = async <M>(pkg: string): Promise<M> => (await import(pathToFileURL(join(baselineRoot!, `packages/${pkg}/dist/index.js`)).href)) as M;
// The baseline's own breaker too: "today" is core and circuit-breaker before telemetry.
const baselineCall =
  baselineRoot === undefined
    ? undefined
    : (await fromBaseline<typeof Core>('core')).createSafeCall({
        registry: new (await fromBaseline<typeof Breaker>('circuit-breaker')).BreakerRegistry(),
        logger: silentLogger,
      });
const BARE = 'bare await fn()';
const SAFE = 'safeCall, fn ignores the signal';
const SAFE_SIGNAL = 'safeCall, fn takes the signal';
const COCKATIEL = 'cockatiel wrap(retry, breaker, timeout)';
const OPOSSUM = 'opossum fire() with timeout';
const OTEL = 'safeCall, OTel SDK registered';
const DC = 'safeCall, diagnostics_channel subscriber';
const BASELINE = 'safeCall, baseline checkout';
const BASELINE_SIGNAL = 'safeCall, baseline checkout, fn takes the signal';
const SAFE_AFTER = 'safeCall, no provider, in phase 2';
type Contender = [string, () => Promise<unknown>, number];
// The baseline copy runs the same two paths as ours, so that V8 sees the same mix of calls
// in both copies (a copy that only ever ran one path would be compiled for that path alone).
const baselineContenders: Contender[] =
  baselineCall === undefined
    ? []
    : [
        [BASELINE, () => baselineCall('bench', work), CALLS],
        [BASELINE_SIGNAL, () => baselineCall('bench_signal', workWithSignal), CALLS],
      ];
// cockatiel is ~50x slower per call: fewer calls per round keep the run short.
const phase1: Contender[] = [
  [BARE, () => work(), CALLS],
  [SAFE, () => safeCall('bench', work), CALLS],
  [SAFE_SIGNAL, () => safeCall('bench_signal', workWithSignal), CALLS],
  ...baselineContenders,
  [COCKATIEL, () => cockatiel.execute(({ signal }) => workWithSignal(signal)), CALLS / 20],
  [OPOSSUM, () => opossum.fire(), CALLS],
];
const phase2: Contender[] = [
  [SAFE_AFTER, () => safeCall('bench', work), CALLS],
  ...baselineContenders.slice(0, 1).map(([, run, calls]): Contender => [`${BASELINE} (phase 2)`, run, calls]),
  [OTEL, () => safeCall('bench_otel', work), CALLS / 4],
  [DC, () => safeCall('bench_dc', work), CALLS],
];
// The provider (or subscriber) is in place only while its contender runs.
const around: Record<string, <T>(run: () => Promise<T>) => Promise<T>> = {
  [OTEL]: withProvider,
  [DC]: async (run) => {
    const listener = () => channelMessages++;
    subscribe(safeCallChannels.end, listener);
    try {
      return await run();
    } finally {
      unsubscribe(safeCallChannels.end, listener);
    }
  },
};
/** One round of one contender: wall-clock and CPU (all threads of this process) ns per call. */
interface Sample {
  readonly wall: number;
  readonly cpu: number;
}
const timed = (name: string, run: () => Promise<unknown>, calls: number) => (around[name] ?? ((r) => r()))(() => timeOne(run, calls));

async function timeOne(run: () => Promise<unknown>, calls: number): Promise<Sample> {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await run();
  const wall = Number(process.hrtime.bigint() - started) / calls;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: ((used.user + used.system) * 1000) / calls };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const load = () => loadavg()[0]!.toFixed(1);

/** Warm-up, then ROUNDS rounds of every contender in turn: every sample, by name. */
async function measure(contenders: Contender[]): Promise<Map<string, Sample[]>> {
  for (const [name, run, calls] of contenders) await timed(name, run, calls / 4); // warm-up
  const samples = new Map<string, Sample[]>(contenders.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run, calls] of contenders) samples.get(name)!.push(await timed(name, run, calls));
  }
  return samples;
}
/**
 * The median of the per-round ratios a/b, by wall clock and by CPU time (each pair ran in
 * the same round, under about the same load; CPU time leaves out the time this process
 * waited for a core, the larger part of the noise on a busy machine).
 */
const pairedRatio = (samples: Map<string, Sample[]>, a: string, b: string, by: keyof Sample) =>
  median(samples.get(a)!.map((value, i) => value[by] / samples.get(b)![i]![by]));
const percent = (ratio: number) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)} %`;
const versus = (samples: Map<string, Sample[]>, a: string, b: string) => {
  const cpu = pairedRatio(samples, a, b, 'cpu');
  const wall = pairedRatio(samples, a, b, 'wall');
  return `${cpu.toFixed(3)}x by CPU time (${percent(cpu)}), ${wall.toFixed(3)}x by wall clock (${percent(wall)})`;
};

console.log(`load average (1 min) before: ${load()} on this machine`);
const first = await measure(phase1);
const loadAfterPhase1 = load();
const second = await measure(phase2);
const samples = new Map([...first, ...second]);
const ns = new Map([...samples].map(([name, values]) => [name, median(values.map((value) => value.wall))]));
const slower = Math.max(ns.get(SAFE)!, ns.get(SAFE_SIGNAL)!);
const slowerName = slower === ns.get(SAFE) ? SAFE : SAFE_SIGNAL;
console.log(
  `success path, ${CALLS.toLocaleString('en')} sequential calls (cockatiel ${(CALLS / 20).toLocaleString('en')}) x ${ROUNDS} rounds (median); phase 1, then phase 2`,
);
console.table(
  [...ns].map(([name, value]) => ({
    contender: name,
    'ns/call (median)': Math.round(value),
    'calls/s': Math.round(1e9 / value).toLocaleString('en'),
    'vs slower safeCall path': (value / slower).toFixed(2) + 'x',
  })),
);
const ratio = (peer: string, path: string) => (ns.get(peer)! / ns.get(path)!).toFixed(2);
for (const path of [SAFE, SAFE_SIGNAL]) {
  console.log(
    `${path}: ${ratio(OPOSSUM, path)}x opossum (target >= 3x), ${ratio(COCKATIEL, path)}x cockatiel (target >= 10x), ${(ns.get(path)! / ns.get(BARE)!).toFixed(1)}x a bare await`,
  );
}
console.log(`slower path (${slowerName}): ${ratio(OPOSSUM, slowerName)}x opossum, ${ratio(COCKATIEL, slowerName)}x cockatiel`);
console.log(
  `OpenTelemetry: with the SDK registered ${ratio(OTEL, SAFE_AFTER)}x the no-provider path (+${Math.round(ns.get(OTEL)! - ns.get(SAFE_AFTER)!)} ns/call: a span, its event, a histogram point)`,
);
console.log(`diagnostics_channel subscriber: ${ratio(DC, SAFE_AFTER)}x the no-provider path (${channelMessages.toLocaleString('en')} messages seen)`);
if (baselineCall !== undefined) {
  console.log(`no provider vs baseline checkout (${baselineRoot}), median of ${ROUNDS} paired rounds (target: within 5 %):`);
  console.log(`  phase 1, fn ignores the signal: ${versus(first, SAFE, BASELINE)}`);
  console.log(`  phase 1, fn takes the signal: ${versus(first, SAFE_SIGNAL, BASELINE_SIGNAL)}`);
  console.log(`  (load average at the end of phase 1: ${loadAfterPhase1})`);
  console.log(`  phase 2, interleaved with the OTel and channel contenders: ${versus(second, SAFE_AFTER, `${BASELINE} (phase 2)`)}`);
} else {
  console.log('(set BENCH_BASELINE=<checkout root with built packages> to compare the no-provider path with another build in this run)');
}
console.log(`load average (1 min) after: ${load()}`);

const gc = (globalThis as { gc?: () => void }).gc;
const heapMb = () => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};
for (const [name, run] of [
  [SAFE, () => safeCall('bench', work)],
  [SAFE_SIGNAL, () => safeCall('bench_signal', workWithSignal)],
] as const) {
  const before = heapMb();
  for (let i = 0; i < 1_000_000; i++) await run();
  const after = heapMb();
  console.log(
    `heap after 1,000,000 calls (${name}): ${before.toFixed(1)} MB -> ${after.toFixed(1)} MB (${(after - before >= 0 ? '+' : '') + (after - before).toFixed(2)} MB)`,
  );
}

const registry = new BreakerRegistry();
const named = createSafeCall({ registry, logger: silentLogger });
const beforeBreakers = heapMb();
for (let i = 0; i < 10_000; i++) await named(`tenant_${i}`, work);
const afterBreakers = heapMb();
console.log(
  `heap after 10,000 named operations: +${(afterBreakers - beforeBreakers).toFixed(1)} MB (${Math.round(((afterBreakers - beforeBreakers) * 1024 * 1024) / 10_000).toLocaleString('en')} bytes per name: breaker, budget and policy state)`,
);
if (gc === undefined) console.log('(run with --expose-gc for exact heap figures; pnpm bench does)');
