// safeCall's overhead on the success path, side by side with the peers named in issue 2,
// in one run: bare `await fn()`, safeCall (retry + timeout + breaker), cockatiel's
// wrap(retry, circuitBreaker, timeout), opossum's fire() with a timeout. Each is measured
// in several interleaved rounds and the median ns/call is reported, so a noisy neighbour
// hurts every contender alike. Then heap growth after 1 million calls and after 10,000
// named breakers.
import CircuitBreakerOpossum from 'opossum';
import {
  ConsecutiveBreaker,
  ExponentialBackoff,
  TimeoutStrategy,
  circuitBreaker,
  handleAll,
  retry,
  timeout,
  wrap,
} from 'cockatiel';
import { BreakerRegistry } from '@hardening/circuit-breaker';
import { createSafeCall, silentLogger } from '@hardening/core';

const CALLS = 200_000;
const ROUNDS = 7;

const work = async () => 1;
const workWithSignal = async (signal: AbortSignal) => (signal.aborted ? 0 : 1);

const safeCall = createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger });
const cockatiel = wrap(
  retry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff({ initialDelay: 1000 }) }),
  circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(3) }),
  timeout(30_000, TimeoutStrategy.Aggressive),
);
const opossum = new CircuitBreakerOpossum(work, { timeout: 30_000, errorThresholdPercentage: 50, resetTimeout: 30_000 });

const contenders: Array<[string, () => Promise<unknown>]> = [
  ['bare await fn()', () => work()],
  ['safeCall (fn without signal)', () => safeCall('bench', work)],
  ['safeCall (fn takes signal)', () => safeCall('bench_signal', workWithSignal)],
  ['cockatiel wrap(retry, breaker, timeout)', () => cockatiel.execute(({ signal }) => workWithSignal(signal))],
  ['opossum fire() with timeout', () => opossum.fire()],
];

async function timeOne(run: () => Promise<unknown>, calls: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await run();
  return Number(process.hrtime.bigint() - started) / calls;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

for (const [, run] of contenders) await timeOne(run, 50_000); // warm-up
const samples = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of contenders) samples.get(name)!.push(await timeOne(run, CALLS));
}
const ns = new Map([...samples].map(([name, values]) => [name, median(values)]));
const safe = ns.get('safeCall (fn without signal)')!;
const rows = [...ns].map(([name, value]) => ({
  contender: name,
  'ns/call (median)': Math.round(value),
  'calls/s': Math.round(1e9 / value).toLocaleString('en'),
  'safeCall speed-up': (value / safe).toFixed(2) + 'x',
}));
console.log(`success path, ${CALLS.toLocaleString('en')} sequential calls x ${ROUNDS} rounds (median)`);
console.table(rows);
const opossumRatio = ns.get('opossum fire() with timeout')! / safe;
const cockatielRatio = ns.get('cockatiel wrap(retry, breaker, timeout)')! / safe;
console.log(`safeCall throughput vs opossum: ${opossumRatio.toFixed(2)}x (target >= 3x)`);
console.log(`safeCall throughput vs cockatiel: ${cockatielRatio.toFixed(2)}x (target >= 10x)`);
console.log(
  `with a signal-taking fn: ${(ns.get('opossum fire() with timeout')! / ns.get('safeCall (fn takes signal)')!).toFixed(2)}x opossum, ${(ns.get('cockatiel wrap(retry, breaker, timeout)')! / ns.get('safeCall (fn takes signal)')!).toFixed(2)}x cockatiel`,
);

const gc = (globalThis as { gc?: () => void }).gc;
const heapMb = () => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};
const before = heapMb();
for (let i = 0; i < 1_000_000; i++) await safeCall('bench', work);
const after = heapMb();
console.log(`heap after 1,000,000 calls: ${before.toFixed(1)} MB -> ${after.toFixed(1)} MB (${(after - before >= 0 ? '+' : '') + (after - before).toFixed(2)} MB)`);

const registry = new BreakerRegistry();
const named = createSafeCall({ registry, logger: silentLogger });
const beforeBreakers = heapMb();
for (let i = 0; i < 10_000; i++) await named(`tenant_${i}`, work);
const afterBreakers = heapMb();
console.log(
  `heap after 10,000 named breakers: +${(afterBreakers - beforeBreakers).toFixed(1)} MB (${(((afterBreakers - beforeBreakers) * 1024 * 1024) / 10_000 / 1024).toFixed(2)} KB per name, breaker + bulkhead/budget state)`,
);
if (gc === undefined) console.log('(run with --expose-gc for exact heap figures; pnpm bench does)');
