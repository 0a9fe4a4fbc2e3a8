// Property-based tests (fast-check) of safeCall's invariants, on fake timers with an
// injected clock: generated traffic, exact expected times.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BreakerRegistry } from '@hardening/circuit-breaker';
import { silentLogger } from '../logger.js';
import { createSafeCall } from './create-safe-call.js';

afterEach(() => {
  vi.useRealTimers();
});

// Times are chosen so that no two events of one call can tie: timeouts are multiples of 4,
// work durations odd, caller aborts 2 more than a multiple of 4 after the start.
const callArbitrary = fc.record({
  name: fc.constantFrom('twilio_sms', 'openai_chat'),
  startMs: fc.integer({ min: 0, max: 40 }),
  timeoutMs: fc.constantFrom(8, 20, 36),
  durationMs: fc.option(
    fc.integer({ min: 0, max: 25 }).map((n) => 2 * n + 1),
    { nil: undefined },
  ),
  abortAfterMs: fc.option(
    fc.integer({ min: 0, max: 12 }).map((n) => 4 * n + 2),
    { nil: undefined },
  ),
});
type GeneratedCall = typeof callArbitrary extends fc.Arbitrary<infer C> ? C : never;

interface Observed {
  abortedAt: number | undefined;
  settledAt: number | undefined;
}

/** Runs the generated calls concurrently; returns what each one's signal went through. */
async function run(calls: GeneratedCall[]): Promise<Observed[]> {
  const safeCall = createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger, clock: { now: () => Date.now() } });
  const start = Date.now();
  const observed: Observed[] = calls.map(() => ({ abortedAt: undefined, settledAt: undefined }));
  calls.forEach((call, i) => {
    setTimeout(() => {
      const caller = new AbortController();
      if (call.abortAfterMs !== undefined) setTimeout(() => caller.abort(new Error('caller gave up')), call.abortAfterMs);
      void safeCall(
        call.name,
        (signal) => {
          signal.addEventListener('abort', () => (observed[i]!.abortedAt = Date.now() - start));
          return call.durationMs === undefined ? new Promise<never>(() => {}) : new Promise((resolve) => setTimeout(resolve, call.durationMs, 'ok'));
        },
        { timeoutMs: call.timeoutMs, attempts: 1, breaker: false, signal: caller.signal },
      )
        .catch(() => 'failed')
        .then(() => (observed[i]!.settledAt = Date.now() - start));
    }, call.startMs);
  });
  await vi.advanceTimersByTimeAsync(200);
  return observed;
}

describe('safeCall properties', () => {
  it("isolation: a call's signal aborts only for its own deadline or its own caller, at that moment", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(callArbitrary, { minLength: 1, maxLength: 12 }), async (calls) => {
        vi.useFakeTimers();
        try {
          const observed = await run(calls);
          calls.forEach((call, i) => {
            const deadline = call.startMs + call.timeoutMs;
            const finished = call.durationMs === undefined ? Infinity : call.startMs + call.durationMs;
            const callerAbort = call.abortAfterMs === undefined ? Infinity : call.startMs + call.abortAfterMs;
            const ownAbort = Math.min(deadline, callerAbort);
            // Aborted exactly when its own deadline or caller came first; otherwise never,
            // not even long after it returned while other calls timed out around it.
            expect(observed[i]!.abortedAt).toBe(ownAbort < finished ? ownAbort : undefined);
            expect(observed[i]!.settledAt).toBe(Math.min(ownAbort, finished));
          });
        } finally {
          vi.useRealTimers();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('every attempt of a retried call gets a fresh signal that aborts at its own deadline', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 5 }), fc.constantFrom(10, 25, 40), fc.integer({ min: 1, max: 30 }), async (attempts, timeoutMs, delayMs) => {
        vi.useFakeTimers();
        try {
          const safeCall = createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger, clock: { now: () => Date.now() } });
          const start = Date.now();
          const seen: Array<{ startedAt: number; abortedAt?: number }> = [];
          const outcome = safeCall(
            'hangs',
            (signal) => {
              const entry: { startedAt: number; abortedAt?: number } = { startedAt: Date.now() - start };
              signal.addEventListener('abort', () => (entry.abortedAt = Date.now() - start));
              seen.push(entry);
              return new Promise<never>(() => {});
            },
            { attempts, timeoutMs, breaker: false, retryBudget: false, backoff: { initialDelayMs: delayMs, factor: 1 } },
          ).catch((e: unknown) => e);
          await vi.advanceTimersByTimeAsync(attempts * (timeoutMs + delayMs) + 10);
          await outcome;
          expect(seen).toHaveLength(attempts);
          seen.forEach((attempt, n) => {
            expect(attempt.startedAt).toBe(n * (timeoutMs + delayMs));
            expect(attempt.abortedAt).toBe(attempt.startedAt + timeoutMs);
          });
        } finally {
          vi.useRealTimers();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('caller errors never change breaker state: a history with them ends like the same history without them', async () => {
    const outcome = fc.constantFrom('ok', 'outage', 'caller');
    await fc.assert(
      fc.asyncProperty(fc.array(outcome, { maxLength: 20 }), async (history) => {
        const replay = async (steps: string[]) => {
          const registry = new BreakerRegistry();
          const safeCall = createSafeCall({ registry, logger: silentLogger });
          for (const step of steps) {
            await safeCall(
              'twilio_sms',
              () => {
                if (step === 'outage') return Promise.reject(Object.assign(new Error('Service Unavailable'), { status: 503 }));
                if (step === 'caller') return Promise.reject(Object.assign(new Error('invalid To'), { status: 400, code: 21211 }));
                return Promise.resolve('SM1');
              },
              { attempts: 1 },
            ).catch(() => {});
          }
          return registry.get('twilio_sms').state;
        };
        expect(await replay(history)).toBe(await replay(history.filter((step) => step !== 'caller')));
      }),
      { numRuns: 100 },
    );
  });
});
