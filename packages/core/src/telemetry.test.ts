import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { BreakerRegistry, setMetricNaming } from '@hardening/circuit-breaker';
import { installOtel } from '@hardening/test-support';
import type { TestOtel } from '@hardening/test-support';
import { trace } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCircuitOpenError } from '@hardening/circuit-breaker';
import { silentLogger } from './logger.js';
import { createSafeCall } from './safe-call/create-safe-call.js';
import { safeCallChannels } from './telemetry.js';

let otel: TestOtel;
beforeEach(() => {
  otel = installOtel();
});
afterEach(async () => {
  setMetricNaming('otel');
  await otel.uninstall();
});

const fast = { backoff: { initialDelayMs: 1, maxDelayMs: 5, jitter: 'none' as const } };
const newSafeCall = () => createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger, defaults: fast });
const spanNamed = (name: string) => otel.spans().filter((s) => s.name === name);
const httpError = (status: number) => Object.assign(new Error(`HTTP ${status}`), { status });

describe('safeCall telemetry with the real OTel SDK', () => {
  it('makes one span per operation with the successful attempt as an event, and a duration histogram in seconds', async () => {
    const safeCall = newSafeCall();
    await expect(safeCall('tel_ok', () => Promise.resolve('done'))).resolves.toBe('done');
    const [span] = spanNamed('safeCall tel_ok');
    expect(span).toBeDefined();
    expect(span!.attributes).toMatchObject({ 'hardening.operation': 'tel_ok', 'hardening.outcome': 'success', 'hardening.attempts': 1 });
    expect(span!.status.code).toBe(0);
    expect(span!.events.map((e) => [e.name, e.attributes?.['hardening.outcome']])).toEqual([['attempt', 'success']]);
    const duration = await otel.metric('hardening.safe_call.duration');
    expect(duration?.descriptor.unit).toBe('s');
    const point = duration!.dataPoints.find((p) => p.attributes['hardening.operation'] === 'tel_ok');
    expect(point?.attributes['hardening.outcome']).toBe('success');
    expect(point?.value).toMatchObject({ count: 1 });
  });

  it('shows a retry as attempts with outcome, error.type and wait, and the HTTP resend count', async () => {
    const safeCall = newSafeCall();
    let calls = 0;
    const result = await safeCall('tel_retry', () => {
      calls++;
      if (calls < 3) return Promise.reject(httpError(503));
      return Promise.resolve(calls);
    });
    expect(result).toBe(3);
    const [span] = spanNamed('safeCall tel_retry');
    const attempts = span!.events.filter((e) => e.name === 'attempt').map((e) => e.attributes);
    expect(attempts).toEqual([
      { 'hardening.attempt': 1, 'hardening.outcome': 'failure', 'error.type': '503', 'hardening.retry.delay': 0.001 },
      { 'hardening.attempt': 2, 'hardening.outcome': 'failure', 'error.type': '503', 'hardening.retry.delay': 0.002 },
      expect.objectContaining({ 'hardening.attempt': 3, 'hardening.outcome': 'success' }),
    ]);
    expect(span!.attributes).toMatchObject({ 'hardening.outcome': 'success', 'hardening.attempts': 3, 'http.request.resend_count': 2 });
  });

  it('shows an open breaker as a refusal event with the state, status ERROR and error.type', async () => {
    const safeCall = newSafeCall();
    safeCall.registry.get('tel_open').open();
    const error = await safeCall('tel_open', () => Promise.resolve('never')).catch((e: unknown) => e);
    expect(isCircuitOpenError(error)).toBe(true);
    const [span] = spanNamed('safeCall tel_open');
    expect(span!.status.code).toBe(2);
    expect(span!.attributes).toMatchObject({
      'hardening.outcome': 'refused',
      'error.type': 'CIRCUIT_OPEN',
      'hardening.give_up.reason': 'circuit-open',
      'hardening.attempts': 0,
    });
    expect(span!.events.map((e) => [e.name, e.attributes])).toEqual([
      ['refused', { 'hardening.refusal.reason': 'circuit-open', 'hardening.attempts': 0, 'hardening.circuit_breaker.state': 'open' }],
    ]);
    const points = await otel.points('hardening.safe_call.duration', { 'hardening.operation': 'tel_open' });
    expect(points.map((p) => p.attributes['hardening.outcome'])).toEqual(['refused']);
  });

  it('gives the timeout as the reason when the last attempt timed out', async () => {
    const safeCall = newSafeCall();
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the work rejects with its signal's reason, as a real provider call does
    const error = await safeCall('tel_timeout', (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))), {
      attempts: 2,
      timeoutMs: 30,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const [span] = spanNamed('safeCall tel_timeout');
    expect(span!.status.code).toBe(2);
    expect(span!.attributes).toMatchObject({
      'hardening.outcome': 'failure',
      'error.type': 'timeout',
      'hardening.give_up.reason': 'timeout',
      'hardening.attempts': 2,
    });
    expect(span!.events.map((e) => e.attributes?.['hardening.outcome'])).toEqual(['timeout', 'timeout']);
  });

  it('marks a fallback as outcome fallback with status ERROR', async () => {
    const safeCall = newSafeCall();
    const value = await safeCall(
      'tel_fallback',
      () => {
        return Promise.reject(httpError(503));
      },
      { attempts: 1, fallback: () => 'cached' },
    );
    expect(value).toBe('cached');
    const [span] = spanNamed('safeCall tel_fallback');
    expect(span!.attributes).toMatchObject({ 'hardening.outcome': 'fallback', 'error.type': '503', 'hardening.give_up.reason': 'attempts' });
    expect(span!.status.code).toBe(2);
  });

  it('runs the work inside the span, so spans the work starts are its children', async () => {
    const safeCall = newSafeCall();
    await safeCall('tel_parent', () => {
      trace.getTracer('test').startSpan('inner').end();
      return Promise.resolve();
    });
    const [outer] = spanNamed('safeCall tel_parent');
    const [inner] = spanNamed('inner');
    expect(inner!.parentSpanContext?.spanId).toBe(outer!.spanContext().spanId);
    expect(inner!.spanContext().traceId).toBe(outer!.spanContext().traceId);
  });

  it('still calls the caller own hooks', async () => {
    const safeCall = newSafeCall();
    const seen: string[] = [];
    let calls = 0;
    await safeCall(
      'tel_hooks',
      () => {
        if (++calls === 1) return Promise.reject(httpError(502));
        return Promise.resolve(1);
      },
      { hooks: { onRetry: (e) => seen.push(`retry ${e.attempt}`), onSuccess: (e) => seen.push(`success ${e.attempts}`) } },
    );
    expect(seen).toEqual(['retry 1', 'success 2']);
  });

  it('reports bulkhead occupancy', async () => {
    const safeCall = newSafeCall();
    let release!: () => void;
    const held = safeCall('tel_bulkhead', () => new Promise<void>((r) => (release = r)), { bulkhead: { maxConcurrent: 2, maxQueue: 1 } });
    const points = await otel.points('hardening.bulkhead.active', { 'hardening.operation': 'tel_bulkhead' });
    const limit = await otel.points('hardening.bulkhead.limit', { 'hardening.operation': 'tel_bulkhead' });
    release();
    await held;
    expect(points.map((p) => p.value)).toEqual([1]);
    expect(limit.map((p) => p.value)).toEqual([2]);
    const after = await otel.points('hardening.bulkhead.active', { 'hardening.operation': 'tel_bulkhead' });
    expect(after.map((p) => p.value)).toEqual([0]);
  });

  it('counts resilience4j retry and time-limiter calls with the resilience4j profile', async () => {
    setMetricNaming('resilience4j');
    const safeCall = newSafeCall();
    let calls = 0;
    await safeCall('tel_r4j', () => {
      if (++calls === 1) return Promise.reject(httpError(503));
      return Promise.resolve(1);
    });
    await safeCall('tel_r4j', () => Promise.resolve(1));
    const retry = await otel.points('resilience4j.retry.calls', { name: 'tel_r4j' });
    expect(Object.fromEntries(retry.map((p) => [p.attributes.kind, p.value]))).toEqual({ successful_with_retry: 1, successful_without_retry: 1 });
    const limiter = await otel.points('resilience4j.timelimiter.calls', { name: 'tel_r4j' });
    expect(Object.fromEntries(limiter.map((p) => [p.attributes.kind, p.value]))).toEqual({ successful: 2, failed: 1 });
    expect(await otel.metricNames()).not.toContain('hardening.safe_call.duration');
  });
});

describe('safeCall diagnostics_channel', () => {
  it('publishes start, attempts, refusals and end without any OTel provider', async () => {
    await otel.uninstall();
    const messages: Array<[string, unknown]> = [];
    const listeners = Object.entries(safeCallChannels).map(([key, name]) => {
      const listener = (message: unknown) => messages.push([key, message]);
      subscribe(name, listener);
      return () => unsubscribe(name, listener);
    });
    try {
      const safeCall = newSafeCall();
      let calls = 0;
      await safeCall('dc_retry', () => {
        if (++calls === 1) return Promise.reject(httpError(503));
        return Promise.resolve(1);
      });
      safeCall.registry.get('dc_open').open();
      await safeCall('dc_open', () => Promise.resolve(1)).catch(() => {});
    } finally {
      for (const off of listeners) off();
      otel = installOtel();
    }
    const summary = messages.map(([key, m]) => {
      const message = m as { readonly name: string; readonly outcome?: string; readonly reason?: string };
      return `${key} ${message.name} ${message.outcome ?? message.reason ?? ''}`.trim();
    });
    expect(summary).toEqual([
      'start dc_retry',
      'attempt dc_retry failure',
      'attempt dc_retry success',
      'end dc_retry success',
      'start dc_open',
      'refused dc_open circuit-open',
      'end dc_open refused',
    ]);
    expect(otel.spans()).toEqual([]);
  });
});
