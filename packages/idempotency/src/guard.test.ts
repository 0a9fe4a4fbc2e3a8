import { CircuitOpenError, isCircuitOpenError } from '@hardening/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { recordingLogger } from '../test/support/guard-helpers.js';
import { createIdempotencyGuard } from './guard.js';
import { createMemoryStore } from './memory-store.js';
import type { IdempotencyStore } from './store.js';
import type { Timers } from '@hardening/core';
import { isIdempotencyInProgressError, type IdempotencyInProgressError } from './errors/idempotency-in-progress-error.js';
import { isIdempotencyPayloadMismatchError, type IdempotencyPayloadMismatchError } from './errors/payload-mismatch-error.js';
import { isIdempotencyStoreError, type IdempotencyStoreError } from './errors/idempotency-store-error.js';
import { isIdempotencyLeaseLostError, type IdempotencyLeaseLostError } from './errors/lease-lost-error.js';

// Time is driven with vi.useFakeTimers (the guard's default timers follow it) or with
// injected timers; no test here waits real time.
afterEach(() => {
  vi.useRealTimers();
});

/** A promise and its resolver: a test step the test decides when to finish. */
function gate<T = void>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/** Timers the test fires by hand; every delay asked for is recorded. */
function manualTimers() {
  const pending = new Map<number, { fn: () => void; ms: number }>();
  const delays: number[] = [];
  let next = 0;
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      delays.push(ms);
      pending.set(++next, { fn, ms });
      return next;
    },
    clearTimeout: (handle) => void pending.delete(handle as number),
  };
  /** Runs the earliest timer (by creation); returns its delay. */
  const fireNext = () => {
    const [id, timer] = [...pending.entries()][0] ?? [];
    if (id === undefined || timer === undefined) throw new Error('no timer pending');
    pending.delete(id);
    timer.fn();
    return timer.ms;
  };
  return { timers, delays, pending, fireNext };
}

function setup(options: Partial<Parameters<typeof createIdempotencyGuard>[0]> = {}) {
  const store = createMemoryStore();
  const { lines, logger } = recordingLogger();
  const guard = createIdempotencyGuard({ store, logger, ...options });
  return { store, guard, lines };
}

/** A store that fails the first `n` calls of the named operations, then delegates. */
function failingStore(inner: IdempotencyStore, failures: Partial<Record<'claim' | 'complete' | 'release', number>>): IdempotencyStore {
  const left = { claim: 0, complete: 0, release: 0, ...failures };
  const maybeFail = (op: keyof typeof left) => {
    if (left[op]-- > 0) throw new Error(`ECONNRESET during ${op}`);
  };
  return {
    claim: async (r) => (maybeFail('claim'), inner.claim(r)),
    complete: async (r) => (maybeFail('complete'), inner.complete(r)),
    release: async (k, t) => (maybeFail('release'), inner.release(k, t)),
  };
}

describe('IdempotencyGuard', () => {
  it('runs fn once per key and replays its result to every duplicate', async () => {
    const { guard } = setup();
    let runs = 0;
    const fn = () => Promise.resolve({ reply: 'Thanks!', n: ++runs });
    expect(await guard.execute('SM1', fn)).toEqual({ status: 'executed', value: { reply: 'Thanks!', n: 1 }, stored: true });
    expect(await guard.execute('SM1', fn)).toEqual({ status: 'replayed', value: { reply: 'Thanks!', n: 1 }, stored: true });
    expect(await guard.run('SM2', fn)).toEqual({ reply: 'Thanks!', n: 2 });
    expect(runs).toBe(2);
  });

  it('replays undefined and null results as themselves', async () => {
    const { guard } = setup();
    await guard.run('u', () => Promise.resolve(undefined));
    await guard.run('n', () => Promise.resolve(null));
    expect(await guard.execute('u', () => Promise.resolve('ran again'))).toEqual({ status: 'replayed', value: undefined, stored: true });
    expect(await guard.execute('n', () => Promise.resolve('ran again'))).toEqual({ status: 'replayed', value: null, stored: true });
  });

  it('releases the key when fn throws, rethrows the same error, and the retry processes the event', async () => {
    const { guard, store } = setup();
    const boom = new Error('Twilio 503');
    await expect(
      guard.run('SM1', () => {
        return Promise.reject(boom);
      }),
    ).rejects.toBe(boom);
    expect(store.stats().size).toBe(0);
    expect(await guard.run('SM1', () => Promise.resolve('processed on retry'))).toBe('processed on retry');
  });

  it('refuses a concurrent duplicate with IdempotencyInProgressError by default', async () => {
    const { guard } = setup({ leaseMs: 30_000 });
    let release!: () => void;
    const entered = gate();
    const first = guard.run('SM1', () => new Promise<string>((resolve) => ((release = () => resolve('first')), entered.open())));
    await entered.promise;
    const error = await guard.run('SM1', () => Promise.resolve('second')).catch((e: unknown) => e);
    expect(isIdempotencyInProgressError(error)).toBe(true);
    expect((error as IdempotencyInProgressError).waitedMs).toBe(0);
    expect((error as IdempotencyInProgressError).retryAfterMs).toBeGreaterThan(29_000);
    release();
    expect(await first).toBe('first');
  });

  it("with onInProgress 'wait', a duplicate gets the first run's result", async () => {
    vi.useFakeTimers();
    const { guard } = setup({ onInProgress: 'wait', pollIntervalMs: 5 });
    let secondRan = false;
    const entered = gate();
    const done = gate();
    const first = guard.run('SM1', async () => (entered.open(), await done.promise, 'first'));
    await entered.promise;
    const second = guard.run('SM1', () => Promise.resolve(((secondRan = true), 'second')));
    let secondSettled = false;
    void second.finally(() => (secondSettled = true));
    await vi.advanceTimersByTimeAsync(60); // the duplicate polls (5, 10, 20 ms...) while the first runs
    expect(secondSettled).toBe(false);
    done.open();
    await vi.advanceTimersByTimeAsync(1000); // its next poll sees the stored result
    expect(await Promise.all([first, second])).toEqual(['first', 'first']);
    expect(secondRan).toBe(false);
  });

  it("with onInProgress 'wait', a duplicate runs fn itself when the first run fails", async () => {
    vi.useFakeTimers();
    const { guard } = setup({ onInProgress: 'wait', pollIntervalMs: 5 });
    const entered = gate();
    const fail = gate();
    const first = guard.run('SM1', async () => {
      entered.open();
      await fail.promise;
      throw new Error('first failed');
    });
    const firstFailed = expect(first).rejects.toThrow('first failed');
    await entered.promise;
    const second = guard.run('SM1', () => Promise.resolve('second did it'));
    await vi.advanceTimersByTimeAsync(40);
    fail.open();
    await firstFailed;
    await vi.advanceTimersByTimeAsync(1000);
    expect(await second).toBe('second did it');
  });

  it('a bounded wait ends with IdempotencyInProgressError carrying how long it waited', async () => {
    vi.useFakeTimers();
    const { guard } = setup();
    let release!: () => void;
    const entered = gate();
    const first = guard.run('SM1', () => new Promise<string>((resolve) => ((release = () => resolve('first')), entered.open())));
    await entered.promise;
    const waiting = guard.run('SM1', () => Promise.resolve('second'), { onInProgress: 'wait', waitTimeoutMs: 120 }).catch((e: unknown) => e);
    let settled = false;
    void waiting.finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(119);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await waiting;
    expect(isIdempotencyInProgressError(error)).toBe(true);
    expect((error as IdempotencyInProgressError).waitedMs).toBe(120);
    release();
    await first;
  });

  it('waits and polls on the injected timers and clock: first poll interval, doubled, cut at the wait bound', async () => {
    let now = 0;
    const manual = manualTimers();
    const { guard } = setup({ clock: { now: () => now }, timers: manual.timers, pollIntervalMs: 50 });
    let release!: () => void;
    const entered = gate();
    const first = guard.run('SM1', () => new Promise<string>((resolve) => ((release = () => resolve('first')), entered.open())));
    await entered.promise;
    const waiting = guard.run('SM1', () => Promise.resolve('second'), { onInProgress: 'wait', waitTimeoutMs: 120 }).catch((e: unknown) => e);
    for (let i = 0; i < 2; i++) {
      await vi.waitFor(() => expect(manual.pending.size).toBe(1), { timeout: 10_000, interval: 5 });
      now += manual.fireNext();
    }
    const error = await waiting;
    expect(manual.delays).toEqual([50, 70]);
    expect((error as IdempotencyInProgressError).waitedMs).toBe(120);
    release();
    await first;
  });

  it('the same key with another payload is a typed mismatch, never a replay, whether in progress or completed', async () => {
    const { guard } = setup();
    let release!: () => void;
    const entered = gate();
    const first = guard.run('order-1', () => new Promise<string>((resolve) => ((release = () => resolve('charged')), entered.open())), {
      payload: { amount: 5, currency: 'usd' },
    });
    await entered.promise;
    const during = await guard.run('order-1', () => Promise.resolve('x'), { payload: { amount: 7, currency: 'usd' } }).catch((e: unknown) => e);
    expect(isIdempotencyPayloadMismatchError(during)).toBe(true);
    expect((during as IdempotencyPayloadMismatchError).recordStatus).toBe('in-progress');
    release();
    await first;
    // Same payload with keys in another order: a duplicate, replayed.
    expect(await guard.run('order-1', () => Promise.resolve('x'), { payload: { currency: 'usd', amount: 5 } })).toBe('charged');
    const after = await guard.run('order-1', () => Promise.resolve('x'), { payload: { amount: 7, currency: 'usd' } }).catch((e: unknown) => e);
    expect((after as IdempotencyPayloadMismatchError).recordStatus).toBe('completed');
    const missing = await guard.run('order-1', () => Promise.resolve('x')).catch((e: unknown) => e);
    expect(isIdempotencyPayloadMismatchError(missing)).toBe(true);
  });

  it('accepts a precomputed fingerprint and validates it', async () => {
    const { guard } = setup();
    expect(await guard.run('k', () => Promise.resolve(1), { fingerprint: 'sha:abc' })).toBe(1);
    await expect(guard.run('k', () => Promise.resolve(2), { fingerprint: 'sha:def' })).rejects.toSatisfy(isIdempotencyPayloadMismatchError);
    await expect(guard.run('k2', () => Promise.resolve(2), { fingerprint: 'two\nlines' })).rejects.toThrow(TypeError);
  });

  it('aborts the signal when the lease ends; if another caller took the key, the late result is not recorded', async () => {
    vi.useFakeTimers();
    const { guard, lines } = setup({ leaseMs: 80 });
    let aborted: unknown;
    const tookOver = gate();
    const slow = guard.run('job', async ({ signal }) => {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => ((aborted = signal.reason), resolve())));
      await tookOver.promise; // the takeover happens meanwhile
      return 'late';
    });
    await vi.advanceTimersByTimeAsync(79);
    expect(aborted).toBeUndefined();
    await vi.advanceTimersByTimeAsync(21);
    expect(aborted).toBeDefined();
    expect(await guard.run('job', () => Promise.resolve('takeover'), { leaseMs: 10_000 })).toBe('takeover');
    tookOver.open();
    const error = await slow.catch((e: unknown) => e);
    expect(isIdempotencyLeaseLostError(error)).toBe(true);
    expect((error as IdempotencyLeaseLostError).result).toBe('late');
    expect((aborted as Error).message).toContain('idempotency lease');
    expect(await guard.run('job', () => Promise.resolve('third'))).toBe('takeover');
    expect(lines.some((l) => l.level === 'error' && l.msg?.includes('outlived its lease'))).toBe(true);
  });

  it('shouldStore: a refused result is returned but not stored, and the key is released', async () => {
    const { guard } = setup();
    const outcome = await guard.execute('req', () => Promise.resolve({ status: 503 }), { shouldStore: (r) => r.status < 500 });
    expect(outcome).toEqual({ status: 'executed', value: { status: 503 }, stored: false });
    expect(await guard.run('req', () => Promise.resolve({ status: 200 }), { shouldStore: (r) => r.status < 500 })).toEqual({ status: 200 });
    expect(await guard.run('req', () => Promise.resolve({ status: 201 }))).toEqual({ status: 200 });
  });

  it('a result that cannot be serialized releases the key and says so', async () => {
    const { guard, store } = setup();
    await expect(guard.run('big', () => Promise.resolve(10n))).rejects.toThrow('could not be serialized');
    expect(store.stats().size).toBe(0);
  });

  it('namespaces keep guards on one store apart', async () => {
    const store = createMemoryStore();
    const sms = createIdempotencyGuard({ store, namespace: 'sms:' });
    const voice = createIdempotencyGuard({ store, namespace: 'voice:' });
    expect(await sms.run('X1', () => Promise.resolve('sms'))).toBe('sms');
    expect(await voice.run('X1', () => Promise.resolve('voice'))).toBe('voice');
  });

  describe('store failures', () => {
    it('a failed claim is an IdempotencyStoreError and fn does not run', async () => {
      const { lines, logger } = recordingLogger();
      const guard = createIdempotencyGuard({ store: failingStore(createMemoryStore(), { claim: 1 }), logger });
      let ran = false;
      const error = await guard
        .run('k', () => {
          ran = true;
          return Promise.resolve();
        })
        .catch((e: unknown) => e);
      expect(isIdempotencyStoreError(error)).toBe(true);
      expect((error as IdempotencyStoreError).operation).toBe('claim');
      expect((error as IdempotencyStoreError).effectApplied).toBe(false);
      expect(ran).toBe(false);
      expect(lines.some((l) => l.level === 'error')).toBe(true);
    });

    it("a store that lets out another package's error (a breaker refusing) still fails as a store error", async () => {
      const { logger } = recordingLogger();
      const inner = createMemoryStore();
      const refusing = Object.assign(Object.create(inner) as typeof inner, {
        claim: () => Promise.reject(new CircuitOpenError('database', 'open', Date.now() + 30_000)),
      });
      const guard = createIdempotencyGuard({ store: refusing, logger });
      const error = await guard.run('k', () => Promise.resolve('never')).catch((e: unknown) => e);
      expect(isIdempotencyStoreError(error)).toBe(true);
      expect(isCircuitOpenError((error as Error).cause)).toBe(true);
    });

    it('a failed complete is retried within the lease, so the run is still recorded', async () => {
      const inner = createMemoryStore();
      const { lines, logger } = recordingLogger();
      vi.useFakeTimers();
      const guard = createIdempotencyGuard({ store: failingStore(inner, { complete: 2 }), logger, leaseMs: 5000 });
      let runs = 0;
      const running = guard.run('k', () => Promise.resolve(++runs));
      await vi.advanceTimersByTimeAsync(100 + 200); // the two backoffs
      expect(await running).toBe(1);
      expect(await guard.run('k', () => Promise.resolve(++runs))).toBe(1);
      expect(lines.filter((l) => l.level === 'warn')).toHaveLength(2);
    });

    it('a complete that keeps failing until the lease ends says the effect was applied', async () => {
      const { logger } = recordingLogger();
      vi.useFakeTimers();
      const store = failingStore(createMemoryStore(), { complete: 100 });
      const completes = vi.spyOn(store, 'complete');
      const guard = createIdempotencyGuard({ store, logger, leaseMs: 350 });
      const failed = guard.run('k', () => Promise.resolve('sent')).catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(350);
      const error = await failed;
      // Tried at 0, 100 and 300 ms; a fourth try (after 400 ms more) would outlive the lease.
      expect(completes).toHaveBeenCalledTimes(3);
      expect(isIdempotencyStoreError(error)).toBe(true);
      expect((error as IdempotencyStoreError).operation).toBe('complete');
      expect((error as IdempotencyStoreError).effectApplied).toBe(true);
    });

    it("a failed release does not hide fn's own error, and is logged", async () => {
      const { lines, logger } = recordingLogger();
      vi.useFakeTimers();
      const guard = createIdempotencyGuard({ store: failingStore(createMemoryStore(), { release: 5 }), logger });
      const failed = expect(
        guard.run('k', () => {
          return Promise.reject(new Error('handler bug'));
        }),
      ).rejects.toThrow('handler bug');
      await vi.advanceTimersByTimeAsync(50); // between the two release attempts
      await failed;
      expect(lines.some((l) => l.level === 'error' && l.msg?.includes('stays claimed until its lease ends'))).toBe(true);
    });
  });

  describe('options', () => {
    const store = createMemoryStore();
    it.each([
      [{ store: undefined }, 'Expected `store` to be an IdempotencyStore'],
      [{ store: {} }, 'Expected `store` to be an IdempotencyStore'],
      [{ store, leaseMs: 0 }, 'Expected `leaseMs` to be a positive finite number, got 0.'],
      [{ store, retentionMs: -1 }, 'Expected `retentionMs` to be a positive finite number'],
      [{ store, onInProgress: 'queue' }, "Expected `onInProgress` to be 'error' or 'wait', got queue."],
      [{ store, waitTimeoutMs: Number.NaN }, 'Expected `waitTimeoutMs` to be a non-negative finite number'],
      [{ store, namespace: 5 }, 'Expected `namespace` to be a string'],
      [{ store, timers: { setTimeout } }, 'Expected `timers` to be an object with setTimeout and clearTimeout functions.'],
    ])('rejects %o', (options, message) => {
      expect(() => createIdempotencyGuard(options as never)).toThrow(new TypeError(message).message);
    });

    it('validates per-run options and fn', async () => {
      const guard = createIdempotencyGuard({ store });
      await expect(guard.run('k', () => Promise.resolve(1), { leaseMs: -5 })).rejects.toThrow('Expected `leaseMs`');
      await expect(guard.run('k', 'nope' as never)).rejects.toThrow('Expected `fn` to be a function.');
    });

    it('the memory store validates maxEntries', () => {
      expect(() => createMemoryStore({ maxEntries: 0 })).toThrow('Expected `maxEntries` to be a positive integer, got 0.');
    });
  });
});

describe('MemoryIdempotencyStore bounds', () => {
  it('never holds more than maxEntries; expired records go before live ones', async () => {
    let now = 0;
    const store = createMemoryStore({ maxEntries: 100, clock: { now: () => now } });
    const guard = createIdempotencyGuard({ store, retentionMs: 1000, clock: { now: () => now } });
    for (let i = 0; i < 1000; i++) {
      await guard.run(`k${i}`, () => Promise.resolve(i));
      now += 10; // each record outlives the next 99 claims
      expect(store.stats().size).toBeLessThanOrEqual(100);
    }
    expect(store.stats().evicted).toBe(0);
    expect(store.stats().expired).toBeGreaterThan(800);
    now += 2000;
    const held = store.stats().size;
    expect(held).toBeGreaterThan(0);
    expect(await store.cleanup()).toBe(held);
    expect(store.stats().size).toBe(0);
  });

  it('when full of live records, drops the oldest and counts it', async () => {
    const store = createMemoryStore({ maxEntries: 3 });
    const guard = createIdempotencyGuard({ store });
    for (const key of ['a', 'b', 'c', 'd']) await guard.run(key, () => Promise.resolve(key));
    expect(store.stats()).toMatchObject({ size: 3, evicted: 1 });
    expect(await guard.run('a', () => Promise.resolve('a again'))).toBe('a again');
  });
});

describe('the lease signal', () => {
  it('is created on first read: read after the lease ended, it is already aborted', async () => {
    vi.useFakeTimers();
    const guard = createIdempotencyGuard({ store: createMemoryStore(), leaseMs: 30 });
    const running = guard
      .run('late-reader', async (context) => {
        await new Promise((resolve) => setTimeout(resolve, 60));
        return { aborted: context.signal.aborted, key: context.key };
      })
      .catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(60);
    expect(await running).toEqual({ aborted: true, key: 'late-reader' });
  });

  it('runs on the injected timers: the lease timer aborts the signal, and ending the run clears it', async () => {
    const manual = manualTimers();
    const guard = createIdempotencyGuard({ store: createMemoryStore(), leaseMs: 5000, timers: manual.timers });
    const reasons: unknown[] = [];
    const proceed = gate();
    const running = guard
      .run('injected', async ({ signal }) => {
        signal.addEventListener('abort', () => reasons.push(signal.reason));
        await proceed.promise;
        return signal.aborted;
      })
      .catch((error: unknown) => error);
    await vi.waitFor(() => expect(manual.pending.size).toBe(1), { timeout: 10_000, interval: 5 });
    expect(manual.delays[0]).toBeGreaterThan(4000);
    expect(manual.delays[0]).toBeLessThanOrEqual(5000);
    manual.fireNext();
    expect((reasons[0] as Error).message).toContain('idempotency lease');
    proceed.open();
    await running;
    // A run that ends before its lease leaves no timer behind.
    await guard.run('quick', ({ signal }) => Promise.resolve(signal.aborted));
    expect(manual.pending.size).toBe(0);
  });

  it('read early, it is not aborted while the lease lasts', async () => {
    const guard = createIdempotencyGuard({ store: createMemoryStore(), leaseMs: 5000 });
    expect(await guard.run('early-reader', ({ signal }) => Promise.resolve(signal.aborted))).toBe(false);
  });
});
