import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { installOtel } from '@hardening/test-support';
import type { TestOtel } from '@hardening/test-support';
import { trace } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { manualTimers } from '../test/support.js';
import { defineCheck } from './health-check.js';
import { runCheck } from './run-check.js';
import { healthChannels } from './telemetry.js';

const now = () => 1_000;
let otel: TestOtel;
beforeEach(() => {
  otel = installOtel();
});
afterEach(async () => {
  await otel.uninstall();
});

describe('health check telemetry (real OTel SDK)', () => {
  it('makes a span per check with its result, ERROR for a failure, and a duration histogram', async () => {
    await runCheck(
      defineCheck('db', () => {
        trace.getTracer('test').startSpan('SELECT 1').end();
        return 'pass';
      }),
      5_000,
      now,
    );
    await runCheck(
      defineCheck('redis', () => Promise.reject(new Error('ECONNREFUSED'))),
      5_000,
      now,
    );
    const clock = manualTimers();
    const slow = runCheck(
      defineCheck('slow', () => new Promise(() => {})),
      30,
      now,
      clock.timers,
    );
    await vi.waitFor(() => expect(clock.pendingDelays()).toEqual([30]), { timeout: 10_000, interval: 5 });
    clock.advance(30);
    await slow;
    const byName = Object.fromEntries(otel.spans().map((s) => [s.name, s]));
    expect(byName['health_check db']!.attributes).toMatchObject({
      'hardening.health.check': 'db',
      'hardening.health.status': 'pass',
      'hardening.health.timed_out': false,
    });
    expect(byName['health_check db']!.status.code).toBe(0);
    expect(byName['SELECT 1']!.parentSpanContext?.spanId).toBe(byName['health_check db']!.spanContext().spanId);
    expect(byName['health_check redis']!.attributes['hardening.health.status']).toBe('fail');
    expect(byName['health_check redis']!.status.code).toBe(2);
    expect(byName['health_check slow']!.attributes).toMatchObject({ 'hardening.health.timed_out': true, 'error.type': 'timeout' });
    const duration = await otel.metric('hardening.health.check.duration');
    expect(duration?.descriptor.unit).toBe('s');
    const statuses = duration!.dataPoints
      .map((p) => `${String(p.attributes['hardening.health.check'])}=${String(p.attributes['hardening.health.status'])}`)
      .sort();
    expect(statuses).toEqual(['db=pass', 'redis=fail', 'slow=fail']);
  });

  it('publishes each run on diagnostics_channel without a provider', async () => {
    await otel.uninstall();
    const seen: unknown[] = [];
    const listener = (m: unknown) => seen.push(m);
    subscribe(healthChannels.check, listener);
    try {
      await runCheck(
        defineCheck('disk', () => 'warn'),
        5_000,
        now,
      );
    } finally {
      unsubscribe(healthChannels.check, listener);
      otel = installOtel();
    }
    expect(seen).toEqual([{ name: 'disk', status: 'warn', durationMs: expect.any(Number), timedOut: false }]);
    expect(otel.spans()).toEqual([]);
  });
});
