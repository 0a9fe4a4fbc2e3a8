import { describe, expect, it } from 'vitest';
import * as publicApi from './index.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { ConsecutiveFailuresRule, FailureRateRule, OpeningRules, SlowCallRateRule } from './opening-rules.js';
import { resolveBreakerOptions } from './options.js';
import { fakeClock } from '../test/fake-clock.js';

describe('opening rules (strategies composed by the breaker)', () => {
  it('consecutive failures: a success starts the count again', () => {
    const rule = new ConsecutiveFailuresRule(3);
    expect([true, true, false, true, true].map((failed) => rule.record(failed))).toEqual([false, false, false, false, false]);
    expect(rule.record(true)).toBe(true);
  });

  it('rate rules wait for minimumCalls, then compare the rate with the threshold', () => {
    const failures = new FailureRateRule(50, 4);
    const slow = new SlowCallRateRule(50, 4);
    expect(failures.record(true, { calls: 3, failures: 3, slowCalls: 3 })).toBe(false);
    expect(failures.record(true, { calls: 4, failures: 2, slowCalls: 0 })).toBe(true);
    expect(failures.record(true, { calls: 4, failures: 1, slowCalls: 4 })).toBe(false);
    expect(slow.record(false, { calls: 4, failures: 0, slowCalls: 2 })).toBe(true);
    expect(slow.record(false, undefined)).toBe(false);
  });

  it('composes only the rules the options turn on, sharing one window between the rate rules', () => {
    const clock = fakeClock();
    const plain = OpeningRules.compose(resolveBreakerOptions({ clock }));
    expect(plain.window).toBeUndefined();
    const options = resolveBreakerOptions({
      clock,
      failureThreshold: Infinity,
      failureRateThreshold: 50,
      slowCallRateThreshold: 50,
      slowCallDurationMs: 10,
      minimumCalls: 2,
    });
    const rules = OpeningRules.compose(options);
    expect(rules.record(false, true)).toBeUndefined(); // 1 call < minimumCalls
    expect(rules.record(false, true)).toBe('slow-call-rate');
    expect(rules.window!.totals(clock.now())).toEqual({ calls: 2, failures: 0, slowCalls: 2 });
    // A live reconfiguration keeps the count and the window when its shape is unchanged.
    const again = OpeningRules.compose({ ...options, slowCallRateThreshold: undefined }, { rules, options });
    expect(again.window).toBe(rules.window);
    expect(again.record(true, false)).toBeUndefined(); // 1 failure in 3 calls: 33%
    expect(again.record(true, false)).toBe('failure-rate'); // 2 in 4: 50%
  });
});

describe('the public surface', () => {
  it('keeps the shared-state hooks off the class and out of the index', () => {
    const breaker = new CircuitBreaker();
    for (const hook of ['applyRemoteState', 'setProbeGate', 'startProbing']) {
      expect(hook in breaker).toBe(false);
    }
    expect(Object.keys(publicApi)).not.toContain('sharedStateAccess');
    expect(Object.keys(publicApi).sort()).toEqual([
      'BreakerRegistry',
      'CircuitBreaker',
      'CircuitOpenError',
      'SharedBreakerState',
      // Telemetry (issue 15): the scope and weak set the other packages instrument with, the
      // channel names and the metric naming profile.
      'TelemetryScope',
      'WeakCollection',
      'breakerChannels',
      'breakerDefaults',
      'getDefaultRegistry',
      'isCircuitOpenError',
      'metricNaming',
      'setMetricNaming',
      'shareBreakerState',
      'systemClock',
    ]);
  });
});
