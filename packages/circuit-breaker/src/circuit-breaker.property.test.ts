import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';
import type { CircuitState } from './circuit-state.js';
import { fakeClock } from '../test/fake-clock.js';

type Command =
  | { kind: 'acquire' }
  | { kind: 'succeed'; index: number; durationMs: number }
  | { kind: 'fail'; index: number; durationMs: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'manual'; action: 'open' | 'close' | 'reset' | 'isolate' };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ kind: 'acquire' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('succeed' as const), index: fc.nat(20), durationMs: fc.nat(3000) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('fail' as const), index: fc.nat(20), durationMs: fc.nat(3000) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.nat(2000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('manual' as const), action: fc.constantFrom('open', 'close', 'reset', 'isolate') }) },
);

const options = fc.record({
  failureThreshold: fc.integer({ min: 1, max: 5 }),
  halfOpenMaxCalls: fc.integer({ min: 1, max: 3 }),
  cooldownMs: fc.integer({ min: 0, max: 1500 }),
  failureRateThreshold: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
  slowCallRateThreshold: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
  minimumCalls: fc.integer({ min: 1, max: 6 }),
  slidingWindow: fc.oneof(
    fc.record({ type: fc.constant('count' as const), size: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ type: fc.constant('time' as const), sizeMs: fc.integer({ min: 100, max: 5000 }), buckets: fc.integer({ min: 1, max: 5 }) }),
  ),
});

describe('CircuitBreaker invariants (property-based)', () => {
  it('never goes closed -> half-open, never admits more probes than allowed, never counts below zero', () => {
    fc.assert(
      fc.property(options, fc.array(command, { maxLength: 200 }), (opts, commands) => {
        const clock = fakeClock();
        const breaker = new CircuitBreaker({ ...opts, slowCallDurationMs: 1000, clock });
        const transitions: Array<[CircuitState, CircuitState]> = [];
        breaker.onStateChange((c) => transitions.push([c.from, c.to]));
        const permits: number[] = [];
        let probesInHalfOpen = 0;
        for (const step of commands) {
          const before = breaker.state;
          switch (step.kind) {
            case 'acquire': {
              const permit = breaker.acquire();
              if (permit >= 0) permits.push(permit);
              if (breaker.state === 'half-open' && permit >= 0) {
                probesInHalfOpen = before === 'half-open' ? probesInHalfOpen + 1 : 1;
              }
              break;
            }
            case 'succeed':
            case 'fail': {
              if (permits.length === 0) break;
              const [permit] = permits.splice(step.index % permits.length, 1);
              if (step.kind === 'succeed') breaker.recordSuccess(permit!, step.durationMs);
              else breaker.recordFailure(permit!, step.durationMs, new Error('x'));
              break;
            }
            case 'advance':
              clock.advance(step.ms);
              break;
            case 'manual':
              if (step.action === 'isolate') breaker.isolate();
              else breaker[step.action]();
              break;
          }
          const snap = breaker.snapshot();
          if (snap.state !== 'half-open') probesInHalfOpen = 0;
          expect(probesInHalfOpen).toBeLessThanOrEqual(opts.halfOpenMaxCalls);
          expect(snap.probes.admitted).toBeLessThanOrEqual(opts.halfOpenMaxCalls);
          for (const value of [
            snap.consecutiveFailures,
            snap.probes.admitted,
            snap.probes.succeeded,
            snap.probes.failed,
            snap.totals.successes,
            snap.totals.failures,
            snap.totals.ignored,
            snap.totals.rejections,
            snap.window?.calls ?? 0,
            snap.window?.failures ?? 0,
            snap.window?.slowCalls ?? 0,
          ]) {
            expect(value).toBeGreaterThanOrEqual(0);
          }
          if (snap.window) {
            expect(snap.window.failures).toBeLessThanOrEqual(snap.window.calls);
            expect(snap.window.slowCalls).toBeLessThanOrEqual(snap.window.calls);
          }
          expect(snap.consecutiveFailures).toBeLessThan(opts.failureThreshold);
          if (snap.state === 'open') expect(snap.nextAttemptAt).toBeDefined();
        }
        for (const [from, to] of transitions) {
          expect(`${from}->${to}`).not.toBe('closed->half-open');
          expect(`${from}->${to}`).not.toBe('isolated->half-open');
        }
      }),
      { numRuns: 400 },
    );
  });
});

type ConcurrentStep =
  | { kind: 'call'; fail: boolean; durationMs: number }
  | { kind: 'settle' }
  | { kind: 'advance'; ms: number }
  | {
      kind: 'configure';
      options: { halfOpenMaxCalls: number; cooldownMs: number; failureThreshold: number; failureRateThreshold: number | undefined; maxHalfOpenWaitMs: number };
    };

const concurrentStep: fc.Arbitrary<ConcurrentStep> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('call' as const), fail: fc.boolean(), durationMs: fc.nat(3000) }) },
  { weight: 4, arbitrary: fc.constant({ kind: 'settle' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.nat(2000) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('configure' as const),
      options: fc.record({
        halfOpenMaxCalls: fc.integer({ min: 1, max: 4 }),
        cooldownMs: fc.integer({ min: 0, max: 1500 }),
        failureThreshold: fc.integer({ min: 1, max: 4 }),
        failureRateThreshold: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
        maxHalfOpenWaitMs: fc.integer({ min: 0, max: 3000 }),
      }),
    }),
  },
);

describe('CircuitBreaker half-open limit under concurrency (property-based, fake clock)', () => {
  it('never admits a probe while the probes of the current half-open period reach the limit in force, with calls in flight and configure() mid-flight', async () => {
    await fc.assert(
      fc.asyncProperty(options, fc.array(concurrentStep, { maxLength: 120 }), fc.scheduler(), async (opts, steps, s) => {
        const clock = fakeClock();
        const breaker = new CircuitBreaker({ ...opts, slowCallDurationMs: 1000, clock });
        let admittedThisPeriod = 0;
        let largestLimitThisPeriod = breaker.options.halfOpenMaxCalls;
        breaker.onStateChange((change) => {
          if (change.to === 'half-open') {
            admittedThisPeriod = 0;
            largestLimitThisPeriod = breaker.options.halfOpenMaxCalls;
          }
        });
        const inFlight: Promise<void>[] = [];
        const check = () => {
          const snap = breaker.snapshot();
          expect(snap.probes.admitted).toBeLessThanOrEqual(largestLimitThisPeriod);
          if (snap.state === 'half-open') expect(snap.probes.admitted).toBe(admittedThisPeriod);
        };
        for (const step of steps) {
          switch (step.kind) {
            case 'call': {
              const permit = breaker.acquire();
              if (permit < 0) break;
              if (breaker.state === 'half-open') {
                // The admission itself: below the limit in force at this moment.
                expect(admittedThisPeriod).toBeLessThan(breaker.options.halfOpenMaxCalls);
                admittedThisPeriod++;
              }
              // The outcome arrives whenever the scheduler decides: calls overlap in any order.
              inFlight.push(
                s.schedule(Promise.resolve(step)).then(({ fail, durationMs }) => {
                  if (fail) breaker.recordFailure(permit, durationMs, new Error('provider down'));
                  else breaker.recordSuccess(permit, durationMs);
                  check();
                }),
              );
              break;
            }
            case 'settle':
              if (s.count() > 0) await s.waitOne();
              break;
            case 'advance':
              clock.advance(step.ms);
              break;
            case 'configure':
              breaker.configure(step.options);
              largestLimitThisPeriod = Math.max(largestLimitThisPeriod, step.options.halfOpenMaxCalls);
              break;
          }
          check();
        }
        await s.waitAll();
        await Promise.all(inFlight);
        check();
      }),
      { numRuns: 300 },
    );
  });
});
