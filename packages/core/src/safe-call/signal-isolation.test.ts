// Defects 1 and 2 of issue 9, from the caller's side: a call's signal aborts only for that
// call, and every work function gets a real signal whatever its arity.
import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { isRetriesExhaustedError } from '../errors/retries-exhausted-error.js';
import { isTimeoutError } from '../errors/timeout-error.js';
import { isolatedSafeCall } from '../../test/isolated-safe-call.js';

const hang = () => new Promise<never>(() => {});

afterEach(() => {
  vi.useRealTimers();
});

describe('defect 1: one call never aborts another call signal (real server)', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // Headers at once, the body 1.4 s later: well after the hanging sibling's 1 s timeout
    // (generous, so a loaded machine still gets the headers before either timeout).
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part one, ');
      setTimeout(() => res.end('part two'), 1400);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  });
  afterAll(() => {
    server.close();
  });

  it('the README pattern reads the whole body while a sibling started in the same tick times out', async () => {
    const safeCall = isolatedSafeCall();
    await (await fetch(url)).text(); // warm up fetch, so the first trial's headers come fast
    for (let trial = 0; trial < 2; trial++) {
      const signals: AbortSignal[] = [];
      // Both calls start in the same millisecond, on the same operation and timeout.
      const hanging = safeCall('calendar', hang, { timeoutMs: 1000, attempts: 1 }).catch((e: unknown) => e);
      const returning = safeCall(
        'calendar',
        (signal) => {
          signals.push(signal);
          return fetch(url, { signal });
        },
        { timeoutMs: 1000, attempts: 1 },
      );
      const res = await returning;
      expect(isRetriesExhaustedError(await hanging)).toBe(true); // the sibling timed out
      await expect(res.text()).resolves.toBe('part one, part two');
      expect(signals[0]!.aborted).toBe(false);
    }
  });

  it('a returned call signal never aborts afterwards, not even past its own deadline', async () => {
    const safeCall = isolatedSafeCall();
    const signals: AbortSignal[] = [];
    for (let i = 0; i < 20; i++) {
      await safeCall(
        'quick',
        (signal) => {
          signals.push(signal);
          return Promise.resolve(i);
        },
        { timeoutMs: 30 },
      );
    }
    await Promise.all([0, 1, 2].map(() => safeCall('quick', hang, { timeoutMs: 30, attempts: 1 }).catch(() => 'timed out')));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(signals.filter((s) => s.aborted)).toHaveLength(0);
    expect(new Set(signals).size).toBe(20); // one signal per call, never shared
  });
});

describe('defect 1: each attempt signal aborts at its own deadline (fake timers)', () => {
  it('calls started a fraction of a millisecond apart expire each at its own deadline', async () => {
    vi.useFakeTimers();
    let now = 0;
    const safeCall = isolatedSafeCall({ clock: { now: () => now } });
    const seen: AbortSignal[] = [];
    const work = (signal: AbortSignal) => {
      seen.push(signal);
      return hang();
    };
    const first = safeCall('api', work, { timeoutMs: 100, attempts: 1 }).catch((e: unknown) => e);
    now = 0.6;
    const second = safeCall('api', work, { timeoutMs: 100, attempts: 1 }).catch((e: unknown) => e);
    now = 100;
    await vi.advanceTimersByTimeAsync(100);
    expect(seen.map((s) => s.aborted)).toEqual([true, false]);
    expect(isTimeoutError(seen[0]!.reason)).toBe(true);
    now = 100.6;
    await vi.advanceTimersByTimeAsync(1);
    expect(seen.map((s) => s.aborted)).toEqual([true, true]);
    expect(isRetriesExhaustedError(await first)).toBe(true);
    expect(isRetriesExhaustedError(await second)).toBe(true);
  });

  it('a caller aborting its call aborts only that call signal, with its reason', async () => {
    const safeCall = isolatedSafeCall();
    const controller = new AbortController();
    const seen: AbortSignal[] = [];
    const work = (signal: AbortSignal) => {
      seen.push(signal);
      return new Promise((resolve) => setTimeout(resolve, 50, 'done'));
    };
    const aborted = safeCall('shared', work, { signal: controller.signal }).catch((e: unknown) => e);
    const other = safeCall('shared', work);
    const reason = new Error('user left');
    controller.abort(reason);
    await aborted;
    await expect(other).resolves.toBe('done');
    expect(seen[0]!.reason).toBe(reason);
    expect(seen.map((s) => s.aborted)).toEqual([true, false]);
  });
});

describe('defect 2: every work function gets a real AbortSignal, whatever its arity', () => {
  const shapes: Array<[string, (...args: never[]) => unknown]> = [
    ['rest parameters', (...args: unknown[]) => capture(args[0])],
    ['a default parameter', (signal: unknown = undefined) => capture(signal)],
    [
      'a function reading arguments',
      function () {
        // eslint-disable-next-line prefer-rest-params
        return capture(arguments[0]);
      },
    ],
    ['a declared parameter', (signal: unknown) => capture(signal)],
    [
      'a bound function',
      function (this: unknown, signal: unknown) {
        return capture(signal);
      }.bind(undefined),
    ],
  ];
  let captured: unknown;
  function capture(signal: unknown): Promise<never> {
    captured = signal;
    return hang();
  }

  for (const [shape, fn] of shapes) {
    it(`${shape}: the signal is an AbortSignal that aborts on timeout`, async () => {
      vi.useFakeTimers();
      captured = undefined;
      const safeCall = isolatedSafeCall({ clock: { now: () => Date.now() } });
      const outcome = safeCall('arity', fn as () => Promise<never>, { timeoutMs: 50, attempts: 1 }).catch((e: unknown) => e);
      expect(captured).toBeInstanceOf(AbortSignal);
      expect((captured as AbortSignal).aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(50);
      expect((captured as AbortSignal).aborted).toBe(true);
      expect(isRetriesExhaustedError(await outcome)).toBe(true);
    });
  }
});
