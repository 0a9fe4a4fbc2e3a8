// Reads the app's prom-client counters (what /metrics would expose) in tests.
import type { Counter } from 'prom-client';

/** The sum of `counter` over the series matching `labels` (0 when never incremented). */
export async function counterValue(counter: Counter<string>, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await counter.get();
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
}
