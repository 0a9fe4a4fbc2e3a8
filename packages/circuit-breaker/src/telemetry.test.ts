import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { installOtel } from '@hardening/test-support';
import type { TestOtel } from '@hardening/test-support';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';
import type { StateChange } from './circuit-state.js';
import { breakerChannels } from './telemetry.js';
import { setMetricNaming } from './telemetry-scope.js';

const clock = { now: () => 1_000 };
let otel: TestOtel;

beforeEach(() => {
  otel = installOtel();
});
afterEach(async () => {
  setMetricNaming('otel');
  await otel.uninstall();
});

function failTwice(name: string): CircuitBreaker {
  const breaker = new CircuitBreaker({ name, failureThreshold: 2, cooldownMs: 10_000, clock });
  breaker.recordSuccess(breaker.acquire(), 20);
  breaker.recordFailure(breaker.acquire(), 30, new Error('boom'));
  breaker.recordFailure(breaker.acquire(), 40, new Error('boom'));
  expect(breaker.acquire()).toBe(-1);
  return breaker;
}

describe('circuit breaker telemetry (real OTel SDK)', () => {
  it('reports the state as a gauge, transitions and calls by outcome (otel naming)', async () => {
    failTwice('cb_otel');
    const state = await otel.points('hardening.circuit_breaker.state', { 'hardening.operation': 'cb_otel' });
    const byState = Object.fromEntries(state.map((p) => [p.attributes['hardening.circuit_breaker.state'], p.value]));
    expect(byState).toEqual({ closed: 0, open: 1, 'half-open': 0, isolated: 0 });
    const transitions = await otel.points('hardening.circuit_breaker.transitions', { 'hardening.operation': 'cb_otel' });
    expect(transitions).toHaveLength(1);
    expect(transitions[0]!.attributes).toMatchObject({
      'hardening.circuit_breaker.previous_state': 'closed',
      'hardening.circuit_breaker.state': 'open',
      'hardening.circuit_breaker.reason': 'consecutive-failures',
    });
    expect(transitions[0]!.value).toBe(1);
    const calls = await otel.points('hardening.circuit_breaker.calls', { 'hardening.operation': 'cb_otel' });
    const byOutcome = Object.fromEntries(calls.map((p) => [p.attributes['hardening.outcome'], p.value]));
    expect(byOutcome).toEqual({ success: 1, failure: 2, refused: 1 });
  });

  it('uses resilience4j names and values with the resilience4j profile', async () => {
    setMetricNaming('resilience4j');
    failTwice('cb_r4j');
    const state = await otel.points('resilience4j.circuitbreaker.state', { name: 'cb_r4j' });
    expect(Object.fromEntries(state.map((p) => [p.attributes.state, p.value]))).toEqual({ closed: 0, open: 1, half_open: 0, forced_open: 0 });
    const calls = await otel.metric('resilience4j.circuitbreaker.calls');
    expect(calls?.descriptor.unit).toBe('s');
    const failed = calls!.dataPoints.find((p) => p.attributes.name === 'cb_r4j' && p.attributes.kind === 'failed');
    expect(failed?.value).toMatchObject({ count: 2, sum: 0.07 });
    const refused = await otel.points('resilience4j.circuitbreaker.not.permitted.calls', { name: 'cb_r4j' });
    expect(refused.map((p) => p.value)).toEqual([1]);
    expect(await otel.metricNames()).not.toContain('hardening.circuit_breaker.calls');
  });

  it('publishes transitions and refusals on diagnostics_channel', () => {
    const changes: StateChange[] = [];
    const refusals: unknown[] = [];
    const onChange = (m: unknown) => changes.push(m as StateChange);
    const onRefused = (m: unknown) => refusals.push(m);
    subscribe(breakerChannels.stateChange, onChange);
    subscribe(breakerChannels.refused, onRefused);
    try {
      failTwice('cb_channel');
    } finally {
      unsubscribe(breakerChannels.stateChange, onChange);
      unsubscribe(breakerChannels.refused, onRefused);
    }
    expect(changes.filter((c) => c.name === 'cb_channel').map((c) => `${c.from}->${c.to}`)).toEqual(['closed->open']);
    expect(refusals).toEqual([{ name: 'cb_channel', state: 'open' }]);
  });
});

describe('circuit breaker telemetry without a provider', () => {
  it('records nothing and still works when no provider is registered', async () => {
    await otel.uninstall();
    const breaker = failTwice('cb_none');
    expect(breaker.state).toBe('open');
    otel = installOtel();
    // Registered afterwards: the gauge still sees the breaker created before (weakly held).
    const state = await otel.points('hardening.circuit_breaker.state', { 'hardening.operation': 'cb_none', 'hardening.circuit_breaker.state': 'open' });
    // The gauge is built on the first event after registration.
    breaker.recordIgnored(breaker.acquire());
    const after = await otel.points('hardening.circuit_breaker.state', { 'hardening.operation': 'cb_none', 'hardening.circuit_breaker.state': 'open' });
    expect(state).toEqual([]);
    expect(after.map((p) => p.value)).toEqual([1]);
  });
});
