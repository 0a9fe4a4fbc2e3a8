import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureLogger, fakeClock, manualTimers } from '../test/support.js';

afterEach(() => {
  vi.useRealTimers();
});
import { defineCheck } from './health-check.js';
import { HealthMonitor } from './health-monitor.js';
import type { HealthStatus } from './health-status.js';

function switchable(name: string, initial: HealthStatus, options: Parameters<typeof defineCheck>[2] = {}) {
  let status: HealthStatus = initial;
  let runs = 0;
  const check = defineCheck(
    name,
    () => {
      runs++;
      return { status, output: status === 'pass' ? undefined : `${name} is ${status} at db.internal:5432` };
    },
    options,
  );
  return {
    check,
    set: (s: HealthStatus) => {
      status = s;
    },
    runs: () => runs,
  };
}

describe('HealthMonitor', () => {
  it('validates its options with clear TypeErrors', () => {
    expect(() => new HealthMonitor({ cacheMs: 0 })).toThrow('Expected `cacheMs` to be a positive number, got 0.');
    expect(() => new HealthMonitor({ timeoutMs: Number.NaN })).toThrow(TypeError);
    expect(() => new HealthMonitor({ cacheMs: 5000, maxStaleMs: 1000 })).toThrow('Expected `maxStaleMs` (1000) to be at least `cacheMs` (5000).');
    const a = defineCheck('db', () => true);
    expect(() => new HealthMonitor({ checks: [a, a], logger: captureLogger() })).toThrow('"db" is used twice');
    expect(() => new HealthMonitor({ checks: [{ name: 'x' } as never] })).toThrow('Expected a health check');
  });

  it('a failing critical check fails readiness and the report; a failing non-critical one only warns', async () => {
    const clock = fakeClock();
    const db = switchable('db', 'pass');
    const cache = switchable('cache', 'pass', { critical: false });
    const monitor = new HealthMonitor({ checks: [db.check, cache.check], clock, logger: captureLogger() });
    expect((await monitor.ready()).status).toBe('pass');

    cache.set('fail');
    clock.advance(10_000);
    expect((await monitor.report()).status).toBe('warn');
    expect((await monitor.ready()).status).toBe('pass');

    db.set('fail');
    clock.advance(10_000);
    const report = await monitor.report();
    expect(report.status).toBe('fail');
    expect(report.checks.map((c) => [c.key, c.status, c.critical])).toEqual([
      ['db', 'fail', true],
      ['cache', 'fail', false],
    ]);
    expect((await monitor.ready()).status).toBe('fail');
  });

  it('probes served from the same cached runs share one frozen results array; a new run or a new check gives a new one', async () => {
    const clock = fakeClock();
    const db = switchable('db', 'pass');
    const monitor = new HealthMonitor({ checks: [db.check], clock, logger: captureLogger() });
    const first = await monitor.ready();
    const second = await monitor.ready();
    expect(second.checks).toBe(first.checks);
    expect(Object.isFrozen(first.checks)).toBe(true);
    expect(() => (first.checks as unknown[]).push({})).toThrow(TypeError);
    expect(db.runs()).toBe(1);

    db.set('fail');
    clock.advance(10_000);
    const third = await monitor.ready();
    expect(third.checks).not.toBe(first.checks);
    expect(third.checks.map((c) => c.status)).toEqual(['fail']);
    expect(first.checks.map((c) => c.status)).toEqual(['pass']); // an earlier caller's report is its own

    monitor.addCheck(switchable('queue', 'pass').check);
    expect((await monitor.ready()).checks.map((c) => c.key)).toEqual(['db', 'queue']);
    expect((await monitor.live()).checks).toEqual([]);
  });

  it('readiness runs critical checks only; liveness runs only liveness checks and never dependencies', async () => {
    const clock = fakeClock();
    const db = switchable('db', 'fail');
    const optional = switchable('optional', 'pass', { critical: false });
    const loop = switchable('loop', 'pass', { critical: false, liveness: true });
    const monitor = new HealthMonitor({ checks: [db.check, optional.check, loop.check], clock, logger: captureLogger() });
    const live = await monitor.live();
    expect(live.status).toBe('pass');
    expect(live.checks.map((c) => c.key)).toEqual(['loop']);
    expect(db.runs()).toBe(0);
    const ready = await monitor.ready();
    expect(ready.checks.map((c) => c.key)).toEqual(['db']);
    expect(optional.runs()).toBe(0);
  });

  it('a liveness check that fails fails liveness only when it is critical (otherwise warn)', async () => {
    const loop = switchable('loop', 'fail', { liveness: true, critical: false });
    const monitor = new HealthMonitor({ checks: [loop.check], logger: captureLogger() });
    expect((await monitor.live()).status).toBe('warn');
    const hard = new HealthMonitor({ checks: [switchable('loop', 'fail', { liveness: true }).check], logger: captureLogger() });
    expect((await hard.live()).status).toBe('fail');
  });

  it('without checks everything passes', async () => {
    const monitor = new HealthMonitor({ logger: captureLogger() });
    expect((await monitor.live()).status).toBe('pass');
    expect((await monitor.ready()).status).toBe('pass');
    expect((await monitor.report()).status).toBe('pass');
    expect(monitor.startup().status).toBe('pass');
  });

  it('start-up: with waitForStartup, startup and readiness fail until markStarted; liveness passes throughout', async () => {
    const logger = captureLogger();
    const monitor = new HealthMonitor({ waitForStartup: true, logger });
    expect(monitor.startup()).toMatchObject({ status: 'fail', output: 'starting' });
    expect(await monitor.ready()).toMatchObject({ status: 'fail', output: 'starting' });
    expect((await monitor.live()).status).toBe('pass');
    monitor.markStarted();
    expect(monitor.startup().status).toBe('pass');
    expect((await monitor.ready()).status).toBe('pass');
    expect(logger.text()).toContain('start-up complete');
  });

  it('a failed start-up keeps the startup probe failing with the scrubbed reason', async () => {
    const logger = captureLogger();
    const monitor = new HealthMonitor({ waitForStartup: true, logger });
    monitor.markStartupFailed(new Error('migration 0003 failed: token sk_live_abcdefghijklmnop'));
    expect(monitor.startup()).toMatchObject({ status: 'fail', output: 'startup failed: migration 0003 failed: token [redacted]' });
    expect((await monitor.ready()).output).toBe('startup failed');
    expect(logger.lines.find((l) => l.level === 'error')?.msg).toBe('health: start-up failed');
  });

  it('shutting down fails readiness and the report at once, without waiting for any check; startup and liveness still pass', async () => {
    const db = switchable('db', 'pass');
    const monitor = new HealthMonitor({ checks: [db.check], logger: captureLogger() });
    await monitor.ready();
    monitor.markShuttingDown();
    expect(await monitor.ready()).toMatchObject({ status: 'fail', output: 'shutting down', lifecycle: 'shutting-down' });
    expect((await monitor.report()).status).toBe('fail');
    expect(monitor.startup().status).toBe('pass');
    expect((await monitor.live()).status).toBe('pass');
    monitor.markStarted();
    expect(monitor.lifecycle).toBe('shutting-down');
  });

  it('while shutting down (or starting), readiness answers at once even when the only check hangs on a cold cache', async () => {
    const hung = defineCheck('db', () => new Promise(() => {}), { timeoutMs: 60_000 });
    const monitor = new HealthMonitor({ checks: [hung], logger: captureLogger(), waitForStartup: true });
    const outcome = await Promise.race([monitor.ready(), new Promise((r) => setTimeout(() => r('waited'), 1000))]);
    expect(outcome).toMatchObject({ status: 'fail', output: 'starting', checks: [] });
    monitor.markStarted();
    monitor.markShuttingDown();
    const during = await Promise.race([monitor.ready(), new Promise((r) => setTimeout(() => r('waited'), 1000))]);
    expect(during).toMatchObject({ status: 'fail', output: 'shutting down' });
  });

  it('logs each status change once (error for a critical failure, info on recovery) and tells listeners', async () => {
    const clock = fakeClock();
    const logger = captureLogger();
    const db = switchable('db', 'pass');
    const monitor = new HealthMonitor({ checks: [db.check], clock, logger });
    const changes: string[] = [];
    monitor.onStatusChange((c) => changes.push(`${c.key}:${c.from ?? '-'}->${c.to}`));
    await monitor.ready();
    db.set('fail');
    for (let i = 0; i < 3; i++) {
      clock.advance(10_000);
      await monitor.ready();
    }
    db.set('pass');
    clock.advance(10_000);
    await monitor.ready();
    expect(changes).toEqual(['db:-->pass', 'db:pass->fail', 'db:fail->pass']);
    const failing = logger.lines.filter((l) => l.msg === 'health: db failing');
    expect(failing).toHaveLength(1);
    expect(failing[0]!.level).toBe('error');
    expect(failing[0]!.obj).toMatchObject({ check: 'db', from: 'pass', to: 'fail', critical: true });
    expect(logger.lines.some((l) => l.level === 'info' && l.msg === 'health: db recovered')).toBe(true);
  });

  it('a throwing listener is logged and does not break the monitor', async () => {
    const logger = captureLogger();
    const monitor = new HealthMonitor({ checks: [defineCheck('x', () => true)], logger });
    monitor.onStatusChange(() => {
      throw new Error('listener bug');
    });
    expect((await monitor.ready()).status).toBe('pass');
    expect(logger.text()).toContain('status listener threw');
  });

  it('checks run in parallel: three 150 ms checks answer after 150 ms, not 450', async () => {
    vi.useFakeTimers();
    const slow = (name: string) => defineCheck(name, () => new Promise<void>((r) => setTimeout(r, 150)));
    const monitor = new HealthMonitor({ checks: [slow('a'), slow('b'), slow('c')], logger: captureLogger() });
    let report: Awaited<ReturnType<HealthMonitor['report']>> | undefined;
    void monitor.report().then((r) => (report = r));
    await vi.advanceTimersByTimeAsync(149);
    expect(report).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(report?.status).toBe('pass');
    expect(report?.checks.map((c) => c.durationMs)).toEqual([150, 150, 150]);
  });

  it('per-check timeout and cache period override the monitor defaults; runCounts and latest report them', async () => {
    const clock = fakeClock();
    const fast = switchable('fast', 'pass', { cacheMs: 100 });
    const slow = switchable('slow', 'pass');
    const hung = defineCheck('hung', () => new Promise(() => {}), { timeoutMs: 20, critical: false });
    const timers = manualTimers();
    const monitor = new HealthMonitor({
      checks: [fast.check, slow.check, hung],
      cacheMs: 1000,
      timeoutMs: 5000,
      clock,
      timers: timers.timers,
      logger: captureLogger(),
    });
    const reporting = monitor.report();
    // Only the hung check's timer is left, with its own 20 ms (the others settled and cleared theirs).
    await vi.waitFor(() => expect(timers.pendingDelays()).toEqual([20]), { timeout: 10_000, interval: 5 });
    timers.advance(20);
    const first = await reporting;
    expect(first.checks.find((c) => c.key === 'hung')).toMatchObject({ status: 'fail', timedOut: true, observations: [{ output: 'timed out after 20 ms' }] });
    clock.advance(150);
    await monitor.report();
    expect(monitor.runCounts()).toMatchObject({ fast: 2, slow: 1 });
    expect(monitor.latest().map((r) => r.key)).toEqual(['fast', 'slow', 'hung']);
  });

  it('refresh() runs every check now; close() releases the checks', async () => {
    let closed = 0;
    const db = switchable('db', 'pass');
    const monitor = new HealthMonitor({ checks: [db.check, { ...defineCheck('x', () => true), close: () => closed++ }], logger: captureLogger() });
    await monitor.report();
    await monitor.refresh();
    expect(db.runs()).toBe(2);
    monitor.close();
    expect(closed).toBe(1);
  });

  it('the report carries service identity, uptime and time', async () => {
    const clock = fakeClock(Date.UTC(2025, 5, 1, 12));
    const monitor = new HealthMonitor({ serviceId: 'sms', version: '1', releaseId: '1.2.3', description: 'SMS gateway', clock, logger: captureLogger() });
    const report = await monitor.report();
    expect(report).toMatchObject({ serviceId: 'sms', version: '1', releaseId: '1.2.3', description: 'SMS gateway', time: '2025-06-01T12:00:00.000Z' });
    expect(report.uptimeSeconds).toBeGreaterThan(0);
  });
});
