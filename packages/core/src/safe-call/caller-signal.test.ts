// Many calls sharing one caller signal: one listener on it, every call still aborted by it,
// and nothing left subscribed once the calls settle (issue 9: MaxListenersExceededWarning
// from the 11th concurrent call on one signal).
import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isAbortedError } from '../errors/aborted-error.js';
import { isolatedSafeCall } from '../../test/isolated-safe-call.js';
import { abortSubscriberCount, subscribeToAbort, unsubscribeFromAbort } from './caller-signal.js';

const hang = () => new Promise<never>(() => {});
const calls = 100;

let warnings: Error[];
const onWarning = (warning: Error) => warnings.push(warning);
beforeEach(() => {
  warnings = [];
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
  vi.useRealTimers();
});

/** Node emits its warnings on a later tick: let them arrive before looking. */
const warningsSoFar = async () => {
  await new Promise((resolve) => setImmediate(resolve));
  return warnings.filter((w) => w.name === 'MaxListenersExceededWarning');
};

describe('subscribeToAbort', () => {
  it('adds one listener for any number of subscribers and removes it with the last', () => {
    const controller = new AbortController();
    const subscribers = Array.from({ length: 20 }, () => () => {});
    for (const s of subscribers) subscribeToAbort(controller.signal, s);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    expect(abortSubscriberCount(controller.signal)).toBe(20);
    for (const s of subscribers) unsubscribeFromAbort(controller.signal, s);
    expect(abortSubscriberCount(controller.signal)).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('tells each subscriber once, functions and handleEvent objects alike, and forgets them all', () => {
    const controller = new AbortController();
    const told: string[] = [];
    const fn = () => told.push('fn');
    const obj = { handleEvent: () => told.push('obj') };
    const gone = () => told.push('gone');
    subscribeToAbort(controller.signal, fn);
    subscribeToAbort(controller.signal, obj);
    subscribeToAbort(controller.signal, gone);
    unsubscribeFromAbort(controller.signal, gone);
    controller.abort();
    controller.abort();
    expect(told).toEqual(['fn', 'obj']);
    expect(abortSubscriberCount(controller.signal)).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('a subscriber that unsubscribes another while being told does not stop it being told', () => {
    const controller = new AbortController();
    const told: string[] = [];
    const second = () => told.push('second');
    subscribeToAbort(controller.signal, () => {
      told.push('first');
      unsubscribeFromAbort(controller.signal, second);
    });
    subscribeToAbort(controller.signal, second);
    controller.abort();
    // The abort happened before the unsubscribe: both calls were waiting on it.
    expect(told).toEqual(['first', 'second']);
  });
});

describe(`${calls} concurrent safeCalls on one caller signal`, () => {
  it('add one listener, print no MaxListenersExceededWarning, and all abort with the signal', async () => {
    const safeCall = isolatedSafeCall();
    const controller = new AbortController();
    const seen: AbortSignal[] = [];
    const outcomes = Array.from({ length: calls }, () =>
      safeCall(
        'fan-out',
        (signal) => {
          seen.push(signal);
          return hang();
        },
        { signal: controller.signal, timeoutMs: 60_000 },
      ).catch((e: unknown) => e),
    );
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    expect(abortSubscriberCount(controller.signal)).toBe(calls);
    const reason = new Error('client went away');
    controller.abort(reason);
    const errors = await Promise.all(outcomes);
    expect(errors.every((e) => isAbortedError(e))).toBe(true);
    expect(seen).toHaveLength(calls);
    expect(seen.every((s) => s.aborted && s.reason === reason)).toBe(true);
    expect(abortSubscriberCount(controller.signal)).toBe(0);
    expect(await warningsSoFar()).toEqual([]);
  });

  it('unsubscribe as they complete: nothing stays subscribed, and a later abort touches none of them', async () => {
    const safeCall = isolatedSafeCall();
    const controller = new AbortController();
    const seen: AbortSignal[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const outcomes = Array.from({ length: calls }, (_, i) =>
      safeCall(
        'fan-out',
        async (signal) => {
          seen.push(signal);
          await gate;
          return i;
        },
        { signal: controller.signal },
      ),
    );
    expect(abortSubscriberCount(controller.signal)).toBe(calls);
    release();
    expect(await Promise.all(outcomes)).toEqual(Array.from({ length: calls }, (_, i) => i));
    expect(abortSubscriberCount(controller.signal)).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    controller.abort();
    expect(seen.some((s) => s.aborted)).toBe(false);
    expect(await warningsSoFar()).toEqual([]);
  });

  it('waiting between attempts: one listener, all abort, none left subscribed (fake timers)', async () => {
    vi.useFakeTimers();
    const safeCall = isolatedSafeCall();
    const controller = new AbortController();
    const outage = Object.assign(new Error('upstream down'), { code: 'ECONNRESET' });
    const outcomes = Array.from({ length: calls }, () =>
      safeCall('fan-out-retry', () => Promise.reject(outage), {
        signal: controller.signal,
        attempts: 3,
        backoff: { initialDelayMs: 10_000 },
        breaker: false,
        retryBudget: false,
      }).catch((e: unknown) => e),
    );
    await vi.advanceTimersByTimeAsync(1); // every first attempt failed: all wait to retry
    expect(abortSubscriberCount(controller.signal)).toBe(calls);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort();
    const errors = await Promise.all(outcomes);
    expect(errors.every((e) => isAbortedError(e))).toBe(true);
    expect(abortSubscriberCount(controller.signal)).toBe(0);
    vi.useRealTimers(); // warningsSoFar waits for a real setImmediate
    expect(await warningsSoFar()).toEqual([]);
  });

  it('queued behind a bulkhead: one listener, all abort, none left subscribed', async () => {
    const safeCall = isolatedSafeCall();
    const controller = new AbortController();
    const outcomes = Array.from({ length: calls }, () =>
      safeCall('fan-out-bulkhead', hang, { signal: controller.signal, timeoutMs: 60_000, bulkhead: { maxConcurrent: 1, maxQueue: calls } }).catch(
        (e: unknown) => e,
      ),
    );
    // One call runs (its attempt subscribed), the others wait in the queue (each subscribed).
    expect(abortSubscriberCount(controller.signal)).toBe(calls);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort();
    const errors = await Promise.all(outcomes);
    expect(errors.every((e) => isAbortedError(e))).toBe(true);
    expect(abortSubscriberCount(controller.signal)).toBe(0);
    expect(await warningsSoFar()).toEqual([]);
  });
});
