import { afterEach, describe, expect, it, vi } from 'vitest';
import { BreakerRegistry, isCircuitOpenError } from '@hardening/circuit-breaker';
import { isAbortedError } from '../errors/aborted-error.js';
import { isBulkheadFullError } from '../errors/bulkhead-full-error.js';
import { isRetriesExhaustedError } from '../errors/retries-exhausted-error.js';
import { isTimeoutError } from '../errors/timeout-error.js';
import { silentLogger } from '../logger.js';
import { captureLogger } from '../../test/capture-logger.js';
import { createSafeCall } from './create-safe-call.js';
import type { CreateSafeCallOptions } from './create-safe-call.js';

const make = (options: CreateSafeCallOptions = {}) => createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger, ...options });
const httpError = (status: number, headers: Record<string, string> = {}) => Object.assign(new Error(`HTTP ${status}`), { status, headers });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterEach(() => {
  vi.useRealTimers();
});

describe('safeCall: success and bad input', () => {
  it('returns what fn returns, sync or async', async () => {
    const safeCall = make();
    await expect(safeCall('a', () => Promise.resolve('sent'))).resolves.toBe('sent');
    await expect(safeCall('a', () => 42)).resolves.toBe(42);
  });

  it('rejects bad arguments with TypeErrors that say what was expected', async () => {
    const safeCall = make();
    await expect(safeCall('', () => Promise.resolve(1))).rejects.toThrow('Expected `name` to be a non-empty string, got "".');
    await expect(safeCall('a', 'nope' as never)).rejects.toThrow('Expected `fn` to be a function, got string.');
    await expect(safeCall('a', () => Promise.resolve(1), { attempts: 0 })).rejects.toThrow('Expected `attempts` to be an integer from 1 to 100, got 0.');
    await expect(safeCall('a', () => Promise.resolve(1), { timeoutMs: -5 })).rejects.toThrow('`timeoutMs`');
    await expect(safeCall('a', () => Promise.resolve(1), { backoff: { jitter: 'lots' as never } })).rejects.toThrow('`backoff.jitter`');
    expect(() => safeCall.configure('a', { bulkhead: { maxConcurrent: 0 } })).not.toThrow(); // validated when created
    expect(() => safeCall.configure('a', { attempts: 1.5 })).toThrow(TypeError);
    expect(() => createSafeCall({ defaults: { timeoutMs: 0 } })).toThrow(TypeError);
  });
});

describe('safeCall: timeouts', () => {
  it('aborts the work it times out: fn sees the abort, with a TimeoutError as the reason', async () => {
    const safeCall = make();
    let seen: AbortSignal | undefined;
    const started = Date.now();
    const error = await safeCall(
      'hung',
      (signal) => {
        seen = signal;
        return new Promise(() => {});
      },
      { timeoutMs: 100, attempts: 1 },
    ).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect(isRetriesExhaustedError(error)).toBe(true);
    expect(isTimeoutError((error as Error).cause)).toBe(true);
    expect(seen?.aborted).toBe(true);
    expect(isTimeoutError(seen?.reason)).toBe(true);
  });

  it('a fetch given the signal is really cancelled', async () => {
    const { createServer } = await import('node:http');
    let closed = false;
    const server = createServer((req) => req.on('close', () => (closed = true))); // never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const safeCall = make();
    await expect(safeCall('slow_api', (signal) => fetch(`http://127.0.0.1:${port}/`, { signal }), { timeoutMs: 150, attempts: 1 })).rejects.toSatisfy(
      isRetriesExhaustedError,
    );
    await vi.waitFor(() => expect(closed).toBe(true));
    server.close();
  });

  it('one call timing out does not cancel another call on the same breaker', async () => {
    const safeCall = make();
    let otherSignal: AbortSignal | undefined;
    const slowButFine = safeCall('shared', async (signal) => {
      otherSignal = signal;
      await sleep(250);
      return 'delivered';
    });
    await expect(safeCall('shared', () => new Promise(() => {}), { timeoutMs: 50, attempts: 1 })).rejects.toSatisfy(isRetriesExhaustedError);
    await expect(slowButFine).resolves.toBe('delivered');
    expect(otherSignal?.aborted).toBe(false);
  });

  it('one caller aborting does not cancel another call', async () => {
    const safeCall = make();
    const controller = new AbortController();
    const signals: AbortSignal[] = [];
    const a = safeCall(
      'shared',
      (signal) => {
        signals.push(signal);
        return sleep(200).then(() => 'a');
      },
      { signal: controller.signal },
    );
    const b = safeCall('shared', (signal) => {
      signals.push(signal);
      return sleep(200).then(() => 'b');
    });
    controller.abort(new Error('user left'));
    const error = await a.catch((e: unknown) => e);
    expect(isAbortedError(error)).toBe(true);
    expect((error as Error).cause).toEqual(new Error('user left'));
    await expect(b).resolves.toBe('b');
    expect(signals.map((s) => s.aborted)).toEqual([true, false]);
  });

  it('never times out early', async () => {
    const safeCall = make();
    for (const timeoutMs of [20, 55]) {
      const started = performance.now();
      await safeCall('early', () => new Promise(() => {}), { timeoutMs, attempts: 1 }).catch(() => {});
      expect(performance.now() - started).toBeGreaterThanOrEqual(timeoutMs - 1);
    }
  });
});

describe('safeCall: retries', () => {
  it('retries transient failures with waits of 1 s then 2 s, then gives up with the last cause', async () => {
    vi.useFakeTimers();
    const safeCall = make();
    const calls: number[] = [];
    const start = Date.now();
    const outcome = safeCall('twilio_sms', () => {
      calls.push(Date.now() - start);
      return Promise.reject(httpError(503));
    }).catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    const error = await outcome;
    expect(calls).toEqual([0, 1000, 3000]);
    expect(isRetriesExhaustedError(error)).toBe(true);
    expect(error).toMatchObject({ attempts: 3, reason: 'attempts', cause: { status: 503 } });
  });

  it('honours Retry-After when it asks for longer than the backoff', async () => {
    vi.useFakeTimers();
    const safeCall = make();
    const calls: number[] = [];
    const start = Date.now();
    const outcome = safeCall('slack_post', () => {
      calls.push(Date.now() - start);
      if (calls.length === 1) return Promise.reject(httpError(429, { 'retry-after': '4' }));
      return Promise.resolve('ok');
    });
    await vi.advanceTimersByTimeAsync(4000);
    await expect(outcome).resolves.toBe('ok');
    expect(calls).toEqual([0, 4000]);
  });

  it('gives up at once when Retry-After is longer than maxDelayMs', async () => {
    const safeCall = make();
    const fn = vi.fn(() => {
      return Promise.reject(httpError(429, { 'retry-after': '3600' }));
    });
    await expect(safeCall('openai', fn)).rejects.toMatchObject({ code: 'RETRIES_EXHAUSTED', reason: 'retry-after' });
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('does not retry non-retryable errors: the original error comes back at once', async () => {
    const safeCall = make();
    const bug = new TypeError('cannot read properties of undefined');
    const fn = vi.fn(() => {
      return Promise.reject(bug);
    });
    await expect(safeCall('x', fn)).rejects.toBe(bug);
    const badRequest = httpError(400);
    const fn400 = vi.fn(() => {
      return Promise.reject(badRequest);
    });
    await expect(safeCall('y', fn400)).rejects.toBe(badRequest);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(fn400).toHaveBeenCalledTimes(1);
  });

  it('a custom retryable predicate decides', async () => {
    const safeCall = make({ defaults: { backoff: { initialDelayMs: 1 } } });
    const fn = vi.fn(() => {
      return Promise.reject(new Error('flaky'));
    });
    await expect(safeCall('z', fn, { retryable: (e) => (e as Error).message === 'flaky' })).rejects.toSatisfy(isRetriesExhaustedError);
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('the retry budget caps retries across calls', async () => {
    const safeCall = make({ defaults: { backoff: { initialDelayMs: 1 }, breaker: false } });
    let calls = 0;
    const fail = () => {
      calls++;
      return Promise.reject(httpError(503));
    };
    const options = { attempts: 2, retryBudget: { ratio: 0, minRetries: 2, windowMs: 60_000 } };
    const reasons: string[] = [];
    for (let i = 0; i < 4; i++) {
      const error = await safeCall('budgeted', fail, options).catch((e: unknown) => e);
      reasons.push((error as { reason: string }).reason);
    }
    expect(reasons).toEqual(['attempts', 'attempts', 'budget', 'budget']);
    expect(calls).toBe(2 * 2 + 2);
  });

  it('the caller aborting during the wait between attempts ends the call', async () => {
    const safeCall = make();
    const controller = new AbortController();
    const fn = vi.fn(() => {
      return Promise.reject(httpError(503));
    });
    const outcome = safeCall('x', fn, { signal: controller.signal }).catch((e: unknown) => e);
    await sleep(20);
    controller.abort();
    expect(isAbortedError(await outcome)).toBe(true);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});

describe('safeCall: breaker, bulkhead, fallback', () => {
  it('opens the breaker after 3 consecutive failures and refuses without calling fn', async () => {
    const registry = new BreakerRegistry();
    const safeCall = make({ registry });
    const fn = vi.fn(() => {
      return Promise.reject(httpError(503));
    });
    for (let i = 0; i < 3; i++) await safeCall('stripe', fn, { attempts: 1 }).catch(() => {});
    expect(registry.get('stripe').state).toBe('open');
    const error = await safeCall('stripe', fn).catch((e: unknown) => e);
    expect(isCircuitOpenError(error)).toBe(true);
    expect(fn).toHaveBeenCalledTimes(3);
    await expect(safeCall('stripe', fn, { fallback: () => 'queued for later' })).resolves.toBe('queued for later');
  });

  it('stops retrying when the breaker opens mid-call', async () => {
    const registry = new BreakerRegistry();
    const safeCall = make({ registry, defaults: { backoff: { initialDelayMs: 1 }, attempts: 5, breaker: { failureThreshold: 2 } } });
    const fn = vi.fn(() => {
      return Promise.reject(httpError(502));
    });
    const error = await safeCall('calendar', fn).catch((e: unknown) => e);
    expect(isCircuitOpenError(error)).toBe(true);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('fallback answers exhausted retries but never hides bugs or caller aborts', async () => {
    const safeCall = make({ defaults: { backoff: { initialDelayMs: 1 } } });
    await expect(safeCall('a', async () => Promise.reject(httpError(503)), { fallback: (e) => `fallback:${(e as Error).name}` })).resolves.toBe(
      'fallback:RetriesExhaustedError',
    );
    await expect(safeCall('b', async () => Promise.reject(new RangeError('bug')), { fallback: () => 'hidden' })).rejects.toThrow('bug');
  });

  it('the bulkhead limits concurrency, queues a bounded number, and refuses the rest', async () => {
    const safeCall = make();
    let running = 0;
    let peak = 0;
    const work = async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(50);
      running--;
      return 'done';
    };
    const options = { bulkhead: { maxConcurrent: 2, maxQueue: 1 } };
    const calls = [0, 1, 2, 3].map(() => safeCall('openai_chat', work, options).catch((e: unknown) => e));
    const results = await Promise.all(calls);
    expect(results.filter((r) => r === 'done')).toHaveLength(3);
    expect(isBulkheadFullError(results[3])).toBe(true);
    expect(peak).toBe(2);
    await expect(safeCall('openai_chat', work)).resolves.toBe('done'); // slots were released
  });

  it('a queued call gives up after queueTimeoutMs', async () => {
    const safeCall = make();
    const options = { bulkhead: { maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 30 } };
    const first = safeCall('q', () => sleep(200), options);
    await expect(safeCall('q', () => Promise.resolve('never'), options)).rejects.toSatisfy(isBulkheadFullError);
    await first;
  });
});

describe('safeCall: observability', () => {
  it('fires hooks and logs with the correlation id; a throwing hook changes nothing', async () => {
    const logger = captureLogger();
    const events: string[] = [];
    const safeCall = createSafeCall({
      registry: new BreakerRegistry(),
      logger,
      defaults: { backoff: { initialDelayMs: 1 }, slowCallThresholdMs: 40, breaker: { failureThreshold: 2 } },
      hooks: {
        onRetry: (e) => events.push(`retry:${e.attempt}:${e.correlationId}`),
        onGiveUp: (e) => events.push(`giveup:${e.reason}`),
        onTimeout: (e) => events.push(`timeout:${e.timeoutMs}`),
        onSlowCall: (e) => events.push(`slow:${e.durationMs >= 40}`),
        onBreakerStateChange: (c) => events.push(`breaker:${c.to}`),
        onSuccess: () => {
          throw new Error('hook bug');
        },
      },
    });
    await safeCall('svc', () => sleep(80).then(() => 'ok'), { correlationId: 'req-1' });
    await safeCall('svc', () => new Promise(() => {}), { timeoutMs: 20, correlationId: 'req-2' }).catch(() => {});
    expect(events).toEqual(['slow:true', 'timeout:20', 'retry:1:req-2', 'timeout:20', 'breaker:open', 'giveup:circuit-open']);
    // the call ends as soon as the breaker opens: no retry is announced that it would refuse
    expect(logger.lines.some((l) => l.level === 'error' && l.msg?.includes('hook threw'))).toBe(true);
    const slowLine = logger.lines.find((l) => l.msg?.startsWith('slow call'));
    expect(slowLine?.fields.correlationId).toBe('req-1');
    expect(logger.lines.some((l) => l.level === 'warn' && l.msg?.includes('circuit "svc" open'))).toBe(true);
  });

  it('marks a slow call slow and a fast one not', async () => {
    const slow: number[] = [];
    const safeCall = make({ hooks: { onSlowCall: (e) => slow.push(e.durationMs) } });
    await Promise.all([safeCall('mix', () => sleep(5), { slowCallThresholdMs: 60 }), safeCall('mix', () => sleep(120), { slowCallThresholdMs: 60 })]);
    expect(slow).toHaveLength(1);
    expect(slow[0]).toBeGreaterThanOrEqual(110);
  });
});
