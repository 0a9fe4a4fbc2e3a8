import { describe, expect, it } from 'vitest';
import { fakeClock, deferred } from '../test/support.js';
import { CachedCheck } from './check-cache.js';
import { defineCheck } from './health-check.js';
import type { HealthStatus } from './health-status.js';

const tick = () => new Promise((r) => setImmediate(r));

function setup(options: { cacheMs?: number; maxStaleMs?: number; timeoutMs?: number } = {}) {
  const clock = fakeClock();
  const pending: Array<ReturnType<typeof deferred<HealthStatus>>> = [];
  const check = defineCheck('db', () => {
    const d = deferred<HealthStatus>();
    pending.push(d);
    return d.promise;
  });
  const cache = new CachedCheck(check, {
    timeoutMs: options.timeoutMs ?? 10_000,
    cacheMs: options.cacheMs ?? 1000,
    maxStaleMs: options.maxStaleMs ?? 5000,
    now: clock.now,
    onRun: () => {},
  });
  return { clock, cache, pending };
}

describe('CachedCheck: stale-while-revalidate with a single flight', () => {
  it('1,000 concurrent callers with no result yet share one run', async () => {
    const { cache, pending } = setup();
    const all = Array.from({ length: 1000 }, () => cache.get());
    expect(cache.runs).toBe(1);
    await tick();
    expect(pending).toHaveLength(1);
    pending[0]!.resolve('pass');
    // eslint-disable-next-line @typescript-eslint/await-thenable -- cached runs and pending ones, mixed as HealthMonitor.collect mixes them
    const runs = await Promise.all(all);
    expect(new Set(runs).size).toBe(1);
    expect(runs[0]!.status).toBe('pass');
  });

  it('serves a fresh result without running; a stale one at once while exactly one refresh runs', async () => {
    const { clock, cache, pending } = setup({ cacheMs: 1000, maxStaleMs: 5000 });
    const first = cache.get();
    await tick();
    pending[0]!.resolve('pass');
    const passed = await first;

    clock.advance(999);
    expect(cache.get()).toBe(passed);
    expect(cache.runs).toBe(1);

    clock.advance(1);
    // Stale: served synchronously (no promise), one refresh started however many ask.
    for (let i = 0; i < 500; i++) expect(cache.get()).toBe(passed);
    expect(cache.runs).toBe(2);

    await tick();
    pending[1]!.resolve('fail');
    await tick();
    const refreshed = cache.get();
    expect(refreshed).not.toBe(passed);
    expect((refreshed as { status: string }).status).toBe('fail');
    expect(cache.runs).toBe(2);
  });

  it('while a refresh hangs, callers keep getting the last result and no second run starts', async () => {
    const { clock, cache, pending } = setup({ cacheMs: 1000, maxStaleMs: 60_000 });
    const first = cache.get();
    await tick();
    pending[0]!.resolve('pass');
    const passed = await first;
    clock.advance(1500);
    expect(cache.get()).toBe(passed);
    for (let t = 0; t < 20; t++) {
      clock.advance(1000);
      expect(cache.get()).toBe(passed);
    }
    expect(cache.runs).toBe(2);
  });

  it('a result older than maxStaleMs is not served: the caller waits for the fresh run', async () => {
    const { clock, cache, pending } = setup({ cacheMs: 1000, maxStaleMs: 5000 });
    const first = cache.get();
    await tick();
    pending[0]!.resolve('pass');
    await first;
    clock.advance(5000);
    const waiting = cache.get();
    expect(waiting).toBeInstanceOf(Promise);
    await tick();
    pending[1]!.resolve('warn');
    expect((await waiting).status).toBe('warn');
  });

  it('a hung run is bounded by the timeout and its failure is cached like any result', async () => {
    const clock = fakeClock();
    let calls = 0;
    const cache = new CachedCheck(
      defineCheck('hang', () => {
        calls++;
        return new Promise(() => {});
      }),
      { timeoutMs: 30, cacheMs: 1000, maxStaleMs: 5000, now: clock.now, onRun: () => {} },
    );
    const run = await cache.get();
    expect(run).toMatchObject({ status: 'fail', timedOut: true });
    expect(cache.get()).toBe(run);
    expect(calls).toBe(1);
  });
});
