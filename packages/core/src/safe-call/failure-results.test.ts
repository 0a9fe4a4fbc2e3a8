// Results that are failures (issue 9): a returned 503/429 Response is retried (honouring
// Retry-After) and counted by the breaker; when attempts run out a typed error carries the
// last result, and a fallback sees it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BreakerRegistry, isCircuitOpenError } from '@hardening/circuit-breaker';
import { isFailedResponse } from '../classifiers/http.js';
import { FailedResultError, isFailedResultError } from '../errors/failed-result-error.js';
import { isRetriesExhaustedError } from '../errors/retries-exhausted-error.js';
import { isolatedSafeCall } from '../../test/isolated-safe-call.js';

const response = (status: number, headers: Record<string, string> = {}) => new Response(`status ${status}`, { status, headers });

afterEach(() => {
  vi.useRealTimers();
});

describe('isFailureResult', () => {
  it('retries a 503 response after its Retry-After, then returns the 200', async () => {
    vi.useFakeTimers();
    const safeCall = isolatedSafeCall();
    const started = Date.now();
    const calls: number[] = [];
    const outcome = safeCall(
      'status_page',
      () => {
        calls.push(Date.now() - started);
        return Promise.resolve(calls.length === 1 ? response(503, { 'retry-after': '4' }) : response(200));
      },
      { isFailureResult: isFailedResponse },
    );
    await vi.advanceTimersByTimeAsync(4000);
    const res = await outcome;
    expect(res.status).toBe(200);
    expect(calls).toEqual([0, 4000]);
  });

  it('leaves a 4xx response to the caller: returned as it is, once', async () => {
    const safeCall = isolatedSafeCall();
    const fn = vi.fn(() => Promise.resolve(response(404)));
    const res = await safeCall('lookup', fn, { isFailureResult: isFailedResponse });
    expect(res.status).toBe(404);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('counts failed results for the breaker: three 503 answers open it', async () => {
    const registry = new BreakerRegistry();
    const safeCall = isolatedSafeCall({ registry });
    const fn = vi.fn(() => Promise.resolve(response(503)));
    for (let i = 0; i < 3; i++) await safeCall('flaky_api', fn, { attempts: 1, isFailureResult: isFailedResponse }).catch(() => {});
    expect(registry.get('flaky_api').state).toBe('open');
    await expect(safeCall('flaky_api', fn, { isFailureResult: isFailedResponse })).rejects.toSatisfy(isCircuitOpenError);
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('when attempts run out, the typed error carries the last result, and a fallback sees it', async () => {
    const safeCall = isolatedSafeCall({ defaults: { backoff: { initialDelayMs: 1 }, breaker: false } });
    let n = 0;
    const fn = () => Promise.resolve(response(502, { 'x-attempt': String(++n) }));
    const error = await safeCall('gateway', fn, { isFailureResult: isFailedResponse }).catch((e: unknown) => e);
    expect(isRetriesExhaustedError(error)).toBe(true);
    const cause = (error as Error).cause;
    expect(isFailedResultError(cause)).toBe(true);
    expect((cause as FailedResultError<Response>).status).toBe(502);
    expect((cause as FailedResultError<Response>).result.headers.get('x-attempt')).toBe('3');
    expect(await (cause as FailedResultError<Response>).result.text()).toBe('status 502'); // the last body is left unread

    const seen: unknown[] = [];
    const fallback = await safeCall('gateway', fn, {
      isFailureResult: isFailedResponse,
      fallback: (e) => {
        seen.push(e);
        return response(200);
      },
    });
    expect(fallback.status).toBe(200);
    expect(((seen[0] as Error).cause as FailedResultError<Response>).result.status).toBe(502);
  });

  it('a non-retryable failed result (501) is thrown as a FailedResultError after one attempt', async () => {
    const safeCall = isolatedSafeCall();
    const fn = vi.fn(() => Promise.resolve(response(501)));
    const error = await safeCall('unimplemented', fn, { isFailureResult: (r) => r.status >= 500 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailedResultError);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('any result type works: a predicate over plain values', async () => {
    const safeCall = isolatedSafeCall({ defaults: { backoff: { initialDelayMs: 1 } } });
    let n = 0;
    const fn = () => Promise.resolve({ ok: ++n >= 2, status: n >= 2 ? 200 : 503 });
    await expect(safeCall('plain', fn, { isFailureResult: (r) => !r.ok })).resolves.toEqual({ ok: true, status: 200 });
  });
});
