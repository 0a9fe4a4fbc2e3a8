// Bytes allocated per call of the health handler (issue 12), for bench/health.bench.ts.
// Run in its own process with a young generation large enough from the start that a
// batch of calls fits without a scavenge (`--min-semi-space-size=64
// --max-semi-space-size=64`), so heapUsed after minus before is what
// the batch allocated; a batch during which any GC ran (seen by a `gc` performance
// observer) is thrown away. Prints one JSON line per endpoint: the median bytes per call.
//
// The checks are cached (a cheap check, cacheMs 60 s): this measures the handler's own
// cost per probe (routing, report, body, headers), which is what a probe storm repeats.
import { PerformanceObserver } from 'node:perf_hooks';
import { createHealthHandler, type HealthCheck } from '@hardening/health';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

let gcs = 0;
new PerformanceObserver((list) => (gcs += list.getEntries().length)).observe({ entryTypes: ['gc'] });

const check = (name: string): HealthCheck => ({
  name,
  componentType: 'datastore',
  critical: true,
  check: () => Promise.resolve({ status: 'pass', observedValue: 1, observedUnit: 'ms' }),
});
const handler = createHealthHandler({
  serviceId: 'bench',
  cacheMs: 60_000,
  maxStaleMs: 120_000,
  adminToken: 'bench-admin-token-0123456789',
  logger: { debug() {}, info() {}, warn() {}, error() {} },
  checks: [check('postgres'), check('redis')],
});
handler.monitor.markStarted();

const requests = {
  '/health/live': { method: 'GET', path: '/health/live' },
  '/health/ready': { method: 'GET', path: '/health/ready' },
  '/health (public)': { method: 'GET', path: '/health' },
  '/health (admin details)': { method: 'GET', path: '/health', authorization: 'Bearer bench-admin-token-0123456789' },
} as const;

const BATCH = 2_000;

async function batch(request: (typeof requests)[keyof typeof requests]): Promise<number | undefined> {
  gc!();
  // Let the observer's entry for that GC arrive before counting (it is delivered late).
  await new Promise((resolve) => setTimeout(resolve, 20));
  const gcsBefore = gcs;
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < BATCH; i++) await handler.handle(request);
  const after = process.memoryUsage().heapUsed;
  await new Promise((resolve) => setTimeout(resolve, 20));
  return gcs === gcsBefore ? (after - before) / BATCH : undefined;
}

for (const [name, request] of Object.entries(requests)) {
  for (let i = 0; i < 5; i++) await batch(request); // warm-up: JIT, the check cache
  const samples: number[] = [];
  for (let tries = 0; samples.length < 9 && tries < 40; tries++) {
    const bytes = await batch(request);
    if (bytes !== undefined) samples.push(bytes);
  }
  samples.sort((a, b) => a - b);
  const median = samples.length === 0 ? Number.NaN : samples[Math.floor(samples.length / 2)]!;
  console.log(JSON.stringify({ endpoint: name, bytesPerCall: Math.round(median), batches: samples.length }));
}
