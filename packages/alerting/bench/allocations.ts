// Bytes allocated per call of the alert dedup path (issue 12), for bench/alerting.bench.ts:
// an alert already delivered, raised again and suppressed by the store (the path a flapping
// condition or a crash loop repeats). Same method as packages/health/bench/allocations.ts:
// a process of its own with a young generation large enough from the start that a batch
// fits without a scavenge (`--min-semi-space-size=64 --max-semi-space-size=64`), so
// heapUsed after minus before is what the batch allocated; a batch during which any GC ran
// (seen by a `gc` performance observer) is thrown away. Prints one JSON line per case: the
// median bytes allocated per call, and the bytes per call still held after a full GC (the
// memory store keeps a history row per outcome until the hourly prune).
//
// The memory store: what is measured is the service's own path (validation, fingerprint,
// claim, suppression, history), not a Redis client's.
import { PerformanceObserver } from 'node:perf_hooks';
import { createAlertService, createMemoryAlertStore, type AlertService } from '@hardening/alerting';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

let gcs = 0;
new PerformanceObserver((list) => (gcs += list.getEntries().length)).observe({ entryTypes: ['gc'] });

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child: () => silent };
const sink = {
  name: 'sms',
  send() {
    return Promise.resolve({});
  },
};

const BATCH = 2_000;

/** Bytes per call allocated during a batch, and still held after a full GC (history rows, say). */
async function batch(
  alerts: AlertService,
  alert: Parameters<AlertService['sendCriticalAlert']>[0],
): Promise<{ allocated: number; retained: number } | undefined> {
  gc!();
  // Let the observer's entry for that GC arrive before counting (it is delivered late).
  await new Promise((resolve) => setTimeout(resolve, 20));
  const gcsBefore = gcs;
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < BATCH; i++) await alerts.sendCriticalAlert(alert);
  const after = process.memoryUsage().heapUsed;
  await new Promise((resolve) => setTimeout(resolve, 20));
  const clean = gcs === gcsBefore;
  gc!();
  const retained = (process.memoryUsage().heapUsed - before) / BATCH;
  return clean ? { allocated: (after - before) / BATCH, retained } : undefined;
}

const cases = {
  'duplicate (suppressed), no metadata': { type: 'BENCH_DUP', severity: 'HIGH', resourceId: 'client_42', title: 'Client stuck', message: 'In S5 for 2 h' },
  'duplicate (suppressed), with metadata': {
    type: 'BENCH_DUP_META',
    severity: 'HIGH',
    resourceId: 'client_42',
    title: 'Client stuck',
    message: 'In S5 for 2 h',
    metadata: { state: 'S5', dwellMinutes: 130 },
  },
} as const;

for (const [name, alert] of Object.entries(cases)) {
  const alerts = createAlertService({ sinks: [sink], store: createMemoryAlertStore(), logger: silent, maintenanceIntervalMs: false, env: {} });
  const first = await alerts.sendCriticalAlert(alert);
  if (first.status !== 'delivered') throw new Error(`the first alert was ${first.status}, not delivered`);
  for (let i = 0; i < 5; i++) await batch(alerts, alert); // warm-up: JIT
  const samples: number[] = [];
  const retained: number[] = [];
  for (let tries = 0; samples.length < 9 && tries < 40; tries++) {
    const bytes = await batch(alerts, alert);
    if (bytes === undefined) continue;
    samples.push(bytes.allocated);
    retained.push(bytes.retained);
  }
  const last = await alerts.sendCriticalAlert(alert);
  if (last.status !== 'suppressed') throw new Error(`a repeat was ${last.status}, not suppressed`);
  await alerts.close();
  const median = (values: number[]) => (values.length === 0 ? Number.NaN : [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!);
  console.log(
    JSON.stringify({ path: name, bytesPerCall: Math.round(median(samples)), retainedPerCall: Math.round(median(retained)), batches: samples.length }),
  );
}
