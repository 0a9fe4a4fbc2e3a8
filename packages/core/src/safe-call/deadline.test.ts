// The overall deadline across attempts and waits, and decorrelated jitter (issue 9).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isTimeoutError } from '../errors/timeout-error.js';
import { backoffDelay, resolveBackoff } from './backoff.js';
import { isolatedSafeCall } from '../../test/isolated-safe-call.js';

const unavailable = () => Object.assign(new Error('Service Unavailable'), { status: 503 });

afterEach(() => {
  vi.useRealTimers();
});

describe('deadlineMs', () => {
  it('cuts the last attempt to what is left: its signal aborts at the deadline and the call ends there', async () => {
    vi.useFakeTimers();
    const safeCall = isolatedSafeCall();
    const start = Date.now();
    const attempts: Array<{ at: number; signal: AbortSignal }> = [];
    const outcome = safeCall(
      'openai_chat',
      (signal) => {
        attempts.push({ at: Date.now() - start, signal });
        return new Promise<never>(() => {});
      },
      { timeoutMs: 3000, deadlineMs: 5000, backoff: { initialDelayMs: 1000 } },
    ).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(4999);
    expect(attempts.map((a) => [a.at, a.signal.aborted])).toEqual([
      [0, true],
      [4000, false],
    ]);
    await vi.advanceTimersByTimeAsync(1);
    expect(attempts[1]!.signal.aborted).toBe(true);
    expect(isTimeoutError(attempts[1]!.signal.reason)).toBe(true);
    const error = await outcome;
    expect(error).toMatchObject({ code: 'RETRIES_EXHAUSTED', reason: 'deadline', attempts: 2 });
    expect(Date.now() - start).toBe(5000);
  });

  it('a wait that would cross the deadline ends the call at once', async () => {
    vi.useFakeTimers();
    const safeCall = isolatedSafeCall();
    const start = Date.now();
    const calls: number[] = [];
    const outcome = safeCall(
      'twilio_sms',
      () => {
        calls.push(Date.now() - start);
        return Promise.reject(unavailable());
      },
      { deadlineMs: 2500, attempts: 5 },
    ).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1000);
    const error = await outcome;
    expect(calls).toEqual([0, 1000]); // the next wait (2 s) would end at 3 s > 2.5 s
    expect(error).toMatchObject({ reason: 'deadline', attempts: 2, cause: { status: 503 } });
  });

  it('so does a Retry-After that would cross it', async () => {
    const safeCall = isolatedSafeCall();
    const fn = vi.fn(() => {
      return Promise.reject(Object.assign(unavailable(), { headers: { 'retry-after': '20' } }));
    });
    await expect(safeCall('slack_post', fn, { deadlineMs: 10_000 })).rejects.toMatchObject({ reason: 'deadline', attempts: 1 });
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('rejects a bad deadline with a TypeError', async () => {
    const safeCall = isolatedSafeCall();
    await expect(safeCall('x', () => Promise.resolve(1), { deadlineMs: 0 })).rejects.toThrow(
      'Expected `deadlineMs` to be a positive number or Infinity, got 0.',
    );
  });
});

describe('decorrelated jitter (AWS: sleep = min(cap, random_between(base, sleep * 3)))', () => {
  const backoff = resolveBackoff({ initialDelayMs: 100, maxDelayMs: 1000, jitter: 'decorrelated' });

  it('stays in [base, 3 x previous], capped', () => {
    expect(backoffDelay(backoff, 1, () => 0, 100)).toBe(100);
    expect(backoffDelay(backoff, 1, () => 0.999_999, 100)).toBe(300);
    expect(backoffDelay(backoff, 2, () => 0.5, 300)).toBe(500);
    expect(backoffDelay(backoff, 3, () => 0.999_999, 900)).toBe(1000);
  });

  it('drives the waits of a call through the injected random source', async () => {
    vi.useFakeTimers();
    const randoms = [0.999_999, 0.5, 0];
    const safeCall = isolatedSafeCall({ random: () => randoms.shift()! });
    const start = Date.now();
    const calls: number[] = [];
    const outcome = safeCall(
      'jittered',
      () => {
        calls.push(Date.now() - start);
        return Promise.reject(unavailable());
      },
      { attempts: 4, breaker: false, backoff: { initialDelayMs: 100, maxDelayMs: 1000, jitter: 'decorrelated' } },
    ).catch(() => {});
    await vi.runAllTimersAsync();
    await outcome;
    // waits: 300 (from 100 x 3), then 100 + 0.5 x (900 - 100) = 500, then 100
    expect(calls).toEqual([0, 300, 800, 900]);
  });
});
