import { BreakerRegistry } from '@hardening/circuit-breaker';
import { describe, expect, it } from 'vitest';
import { captureLogger, fakeClock } from '../../test/support.js';
import { HealthMonitor } from '../health-monitor.js';
import { renderHealthBody } from '../health-response.js';
import { alertSystemCheck } from './alert-system-check.js';
import { circuitBreakerCheck } from './circuit-breaker-check.js';
import { envCheck } from './env-check.js';
import { eventLoopDelayCheck } from './event-loop-delay-check.js';
import { queueBacklogCheck } from './queue-backlog-check.js';

const monitorWith = (
  ...checks: ConstructorParameters<typeof HealthMonitor>[0] extends infer O ? (O extends { checks?: infer C } ? NonNullable<C> : never) : never
) => new HealthMonitor({ checks, logger: captureLogger() });

describe('envCheck', () => {
  it('names the missing (or empty) variables, never a value', async () => {
    const env = { DATABASE_URL: 'postgresql://app:hunter2@db/app', REDIS_URL: '', TWILIO_AUTH_TOKEN: 'secret-value' };
    const monitor = monitorWith(envCheck({ required: ['DATABASE_URL', 'REDIS_URL', 'SLACK_SIGNING_SECRET', 'TWILIO_AUTH_TOKEN'], env }));
    const report = await monitor.report();
    expect(report.status).toBe('fail');
    expect(report.checks[0]!.observations).toEqual([
      { status: 'fail', observedValue: 2, observedUnit: 'missing', output: 'missing: REDIS_URL, SLACK_SIGNING_SECRET' },
    ]);
    const body = JSON.stringify(renderHealthBody(report, true));
    expect(body).not.toContain('hunter2');
    expect(body).not.toContain('secret-value');
  });

  it('passes when all are set, reads process.env by default, and validates its options', async () => {
    expect((await monitorWith(envCheck({ required: ['PATH'] })).report()).status).toBe('pass');
    expect(() => envCheck({ required: 'PATH' as never })).toThrow('Expected `required` to be an array of variable names.');
    expect(() => envCheck({ required: [''] })).toThrow(TypeError);
  });
});

describe('circuitBreakerCheck', () => {
  it('one observation per breaker: closed pass, half-open warn, open warn when not critical and fail when critical', async () => {
    let now = 1_000_000;
    const registry = new BreakerRegistry({ defaults: { clock: { now: () => now }, cooldownMs: 30_000, failureThreshold: 1 } });
    registry.get('slack_alerts');
    registry.get('twilio_sms');
    registry.get('openai_chat');
    registry.get('stripe');
    await registry
      .get('twilio_sms')
      .execute(() => Promise.reject(new Error('503')))
      .catch(() => {});
    await registry
      .get('openai_chat')
      .execute(() => Promise.reject(new Error('429')))
      .catch(() => {});
    registry.get('stripe').isolate();
    const check = circuitBreakerCheck({ registry, criticalBreakers: ['twilio_sms'], now: () => now });
    const monitor = monitorWith(check);
    let report = await monitor.report();
    expect(report.status).toBe('fail');
    const observations = report.checks[0]!.observations;
    expect(observations.map((o) => [o.componentId, o.observedValue, o.status])).toEqual([
      ['slack_alerts', 'closed', 'pass'],
      ['twilio_sms', 'open', 'fail'],
      ['openai_chat', 'open', 'warn'],
      ['stripe', 'isolated', 'warn'],
    ]);
    expect(observations[1]!.output).toBe('open; next probe in 30 s');
    expect(observations[2]!.output).toContain('not critical');
    expect(report.checks[0]!.key).toBe('circuitBreakers:state');

    // The public view names each breaker and its status only.
    expect(renderHealthBody(report, false).checks!['circuitBreakers:state']).toEqual([
      { componentId: 'slack_alerts', status: 'pass' },
      { componentId: 'twilio_sms', status: 'fail' },
      { componentId: 'openai_chat', status: 'warn' },
      { componentId: 'stripe', status: 'warn' },
    ]);

    // After the cooldown the next call is a half-open probe; once it succeeds the breaker closes.
    now += 30_000;
    registry.get('twilio_sms').acquire();
    const fresh = new HealthMonitor({ checks: [circuitBreakerCheck({ registry, criticalBreakers: (n) => n === 'twilio_sms' })], logger: captureLogger() });
    report = await fresh.report();
    expect(report.checks[0]!.observations[1]).toMatchObject({ componentId: 'twilio_sms', observedValue: 'half-open', status: 'warn' });
    expect(report.status).toBe('warn');
  });

  it('only non-critical breakers open: the service warns but stays ready', async () => {
    const registry = new BreakerRegistry();
    registry.get('slack_alerts').open();
    const monitor = monitorWith(circuitBreakerCheck({ registry }));
    expect((await monitor.report()).status).toBe('warn');
    expect((await monitor.ready()).status).toBe('warn');
  });

  it('no breakers: pass; uses the default registry unless given one; validates options', async () => {
    const monitor = monitorWith(circuitBreakerCheck({ registry: new BreakerRegistry() }));
    expect((await monitor.report()).checks[0]!.observations[0]).toMatchObject({ status: 'pass', output: 'no breakers registered' });
    expect(circuitBreakerCheck().name).toBe('circuitBreakers');
    expect(() => circuitBreakerCheck({ registry: {} as never })).toThrow('Expected `registry` to be a BreakerRegistry');
    expect(() => circuitBreakerCheck({ criticalBreakers: 'twilio' as never })).toThrow('Expected `criticalBreakers`');
  });
});

describe('alertSystemCheck', () => {
  it('enabled passes; disabled warns "degraded" with the reason; not critical', async () => {
    let status: { enabled: boolean; reason?: string; sinks?: string[] } = { enabled: true, sinks: ['slack'] };
    const check = alertSystemCheck({ source: { getAlertSystemStatus: () => status } });
    expect(check.critical).toBe(false);
    const clock = fakeClock();
    const monitor = new HealthMonitor({ checks: [check], cacheMs: 1, maxStaleMs: 1, clock, logger: captureLogger() });
    expect((await monitor.report()).checks[0]!.observations[0]).toEqual({ status: 'pass', observedValue: 'enabled' });
    status = { enabled: false, reason: 'SLACK_WEBHOOK_URL is not set' };
    clock.advance(5); // past the 1 ms cache
    const report = await monitor.report();
    expect(report.status).toBe('warn');
    expect(report.checks[0]!.observations[0]).toEqual({ status: 'warn', observedValue: 'disabled', output: 'degraded: SLACK_WEBHOOK_URL is not set' });
    expect((await monitor.ready()).status).toBe('pass');
  });

  it('enabled with problems (a store down, pages pending) warns "degraded" with each of them', async () => {
    const check = alertSystemCheck({
      source: {
        getAlertSystemStatus: () => ({ enabled: true, problems: ['alert store redis down: ECONNREFUSED', '2 page(s) pending since 2026-03-01T03:00:00.000Z'] }),
      },
    });
    const monitor = new HealthMonitor({ checks: [check], logger: captureLogger() });
    expect((await monitor.report()).checks[0]!.observations[0]).toEqual({
      status: 'warn',
      observedValue: 'enabled',
      output: 'degraded: alert store redis down: ECONNREFUSED; 2 page(s) pending since 2026-03-01T03:00:00.000Z',
    });
  });

  it('accepts an async status, fails on a malformed one, validates the source', async () => {
    const asyncCheck = alertSystemCheck({ source: { getAlertSystemStatus: () => Promise.resolve({ enabled: false }) } });
    expect((await monitorWith(asyncCheck).report()).checks[0]!.observations[0]!.output).toBe('degraded: alerts disabled');
    const broken = alertSystemCheck({ source: { getAlertSystemStatus: () => ({}) as never } });
    expect((await monitorWith(broken).report()).checks[0]!.status).toBe('fail');
    expect(() => alertSystemCheck({ source: {} as never })).toThrow('getAlertSystemStatus');
  });
});

describe('queueBacklogCheck', () => {
  it('pass below warnAt, warn from warnAt, fail from failAt, with the count as observedValue', async () => {
    let backlog = 0;
    const check = queueBacklogCheck({ name: 'outbound-sms', count: () => backlog, warnAt: 10, failAt: 100 });
    const statusAt = async (n: number) => {
      backlog = n;
      const monitor = monitorWith(check);
      return (await monitor.report()).checks[0]!;
    };
    expect((await statusAt(9)).observations[0]).toEqual({ status: 'pass', observedValue: 9, observedUnit: 'jobs' });
    expect((await statusAt(10)).status).toBe('warn');
    const failing = await statusAt(100);
    expect(failing.key).toBe('outbound-sms:backlog');
    expect(failing.observations[0]).toMatchObject({ status: 'fail', output: 'backlog 100 jobs (warn at 10, fail at 100)' });
    // Not critical by default: the service warns.
    expect(failing.critical).toBe(false);
  });

  it('async counts, bad counts and bad thresholds', async () => {
    expect((await monitorWith(queueBacklogCheck({ count: () => Promise.resolve(3) })).report()).status).toBe('pass');
    expect((await monitorWith(queueBacklogCheck({ count: () => Number.NaN })).report()).checks[0]!.status).toBe('fail');
    expect(() => queueBacklogCheck({ count: () => 1, warnAt: 10, failAt: 5 })).toThrow('Expected `failAt` (5) to be at least `warnAt` (10).');
    expect(() => queueBacklogCheck({ count: 5 as never })).toThrow('Expected `count` to be a function');
  });
});

describe('eventLoopDelayCheck', () => {
  it('reports the delay since the previous run, and warns when the loop was blocked', async () => {
    const check = eventLoopDelayCheck({ warnAboveMs: 50, failAboveMs: 5000, percentile: 100, resolutionMs: 10 });
    try {
      await new Promise((r) => setTimeout(r, 50));
      const calm = await check.check({ signal: new AbortController().signal });
      expect(calm).toMatchObject({ observedUnit: 'ms' });
      // The first interval after a reset has no start to measure from (Node's histogram), so
      // let it pass; then block the loop for 200 ms, let it sample once more, and read it.
      await new Promise((r) => setTimeout(r, 30));
      const until = Date.now() + 200;
      while (Date.now() < until) {
        /* busy */
      }
      await new Promise((r) => setTimeout(r, 30));
      const blocked = (await check.check({ signal: new AbortController().signal })) as { status: string; observedValue: number; output: string };
      expect(blocked.status).toBe('warn');
      expect(blocked.observedValue).toBeGreaterThanOrEqual(100);
      expect(blocked.output).toContain('p100 delay');
    } finally {
      check.close?.();
    }
  });

  it('defaults and validation', () => {
    const check = eventLoopDelayCheck();
    check.close?.();
    expect(check).toMatchObject({ name: 'eventLoop', measurement: 'delay', componentType: 'system', critical: false });
    expect(() => eventLoopDelayCheck({ warnAboveMs: 10, failAboveMs: 5 })).toThrow('Expected `failAboveMs` (5) to be at least `warnAboveMs` (10).');
    expect(() => eventLoopDelayCheck({ percentile: 0 })).toThrow('Expected `percentile` to be in (0, 100]');
    expect(() => eventLoopDelayCheck({ resolutionMs: 0 })).toThrow('Expected `resolutionMs`');
  });
});
