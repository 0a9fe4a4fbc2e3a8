// @hardening/circuit-breaker on its own (issue 9): memory per named breaker, heap after a
// million outcomes on one breaker, and the permit hot path (acquire + recordSuccess) with
// each rule set. Figures are medians of interleaved rounds; speed lives here, never in tests.
import { BreakerRegistry, type CircuitBreakerOptions } from '@hardening/circuit-breaker';

const gc = (globalThis as { gc?: () => void }).gc;
const heap = () => {
  gc?.();
  gc?.();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers; // the windows' typed arrays live outside the JS heap
};
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const ruleSets: Array<[string, Omit<CircuitBreakerOptions, 'name'>]> = [
  ['consecutive only (default)', {}],
  ['+ failure/slow rate, count window of 100', { failureRateThreshold: 50, slowCallRateThreshold: 80, slidingWindow: { type: 'count', size: 100 } }],
  [
    '+ failure/slow rate, time window 60 s / 10 buckets',
    { failureRateThreshold: 50, slowCallRateThreshold: 80, slidingWindow: { type: 'time', sizeMs: 60_000, buckets: 10 } },
  ],
];

// 1. Heap per named breaker: 10,000 names in one registry, created on first use.
const BREAKERS = 10_000;
const memoryRows = [];
// One frame per measurement: a registry left in a local of a running frame would still be
// alive at the next round's baseline.
function heapFor(defaults: Omit<CircuitBreakerOptions, 'name'>): number {
  const before = heap();
  const registry = new BreakerRegistry({ defaults });
  for (let i = 0; i < BREAKERS; i++) registry.get(`tenant_${i}_sms`);
  const used = heap() - before;
  if (registry.size !== BREAKERS) throw new Error('registry lost breakers');
  return used;
}
for (const [rules, defaults] of ruleSets) {
  const samples = [heapFor(defaults), heapFor(defaults), heapFor(defaults)];
  const used = median(samples);
  memoryRows.push({ rules, 'heap + array buffers for 10,000 breakers (MiB)': +(used / 1048576).toFixed(2), 'bytes per breaker': Math.round(used / BREAKERS) });
}
console.log(
  `Heap after ${BREAKERS.toLocaleString('en')} named breakers (registry.get on first use)${gc === undefined ? ' [run with --expose-gc for exact figures]' : ''}:`,
);
console.table(memoryRows);

// 2. The permit hot path, and heap after a million outcomes on one breaker (must stay flat).
const CALLS = 1_000_000;
const speedRows = [];
for (const [rules, defaults] of ruleSets) {
  const breaker = new BreakerRegistry({ defaults }).get('bench');
  const run = () => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) {
      const permit = breaker.acquire();
      breaker.recordSuccess(permit, 3);
    }
    return Number(process.hrtime.bigint() - started) / CALLS;
  };
  run(); // warm-up
  const before = heap();
  const ns = median([run(), run(), run(), run(), run()]);
  const grown = heap() - before;
  speedRows.push({ rules, 'ns per acquire + recordSuccess (median)': +ns.toFixed(1), 'heap growth after 5 M outcomes (KiB)': +(grown / 1024).toFixed(1) });
}
console.log('Permit hot path on one breaker:');
console.table(speedRows);
