import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAlertService } from '../alert-service.js';
import { captureLogger } from '../../test/support/capture-logger.js';
import { recordingSink } from '../../test/support/recording-sink.js';
import { RuntimeMonitor } from './runtime-monitor.js';

const minute = 60_000;
const start = Date.parse('2026-03-01T00:02:00Z');

describe('RuntimeMonitor (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: start });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(extra: Partial<ConstructorParameters<typeof RuntimeMonitor>[0]> = {}) {
    const sms = recordingSink('sms');
    const logger = captureLogger();
    const alerts = createAlertService({ sinks: [sms], logger, maintenanceIntervalMs: false, env: {} });
    const monitor = new RuntimeMonitor({ alerts, logger, random: () => 0.5, ...extra });
    return { monitor, sms, logger, alerts };
  }

  it('runs rounds on multiples of the 5-minute interval plus jitter', async () => {
    const { monitor } = setup();
    const runs: string[] = [];
    monitor.register('probe', ({ round }) => {
      runs.push(`${new Date(Date.now()).toISOString()} #${round}`);
    });
    await monitor.start();
    await vi.advanceTimersByTimeAsync(11 * minute);
    // jitter: min(30 s, 5 min / 10) * 0.5 = 15 s
    const round = Math.floor(Date.parse('2026-03-01T00:05:00Z') / (5 * minute));
    expect(runs).toEqual([`2026-03-01T00:05:15.000Z #${round}`, `2026-03-01T00:10:15.000Z #${round + 1}`]);
    await monitor.stop();
    await vi.advanceTimersByTimeAsync(20 * minute);
    expect(runs).toHaveLength(2);
  });

  it('never overlaps: the next round waits for the running one, and a manual round meanwhile is skipped', async () => {
    const { monitor, logger } = setup({ intervalMs: minute, jitterMs: 0, checkTimeoutMs: 10 * minute });
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    monitor.register('slow', async () => {
      runs++;
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((resolve) => setTimeout(resolve, 150_000)); // 2.5 intervals
      active--;
    });
    await monitor.start();
    await vi.advanceTimersByTimeAsync(2 * minute);
    expect(active).toBe(1);
    expect((await monitor.runRound()).outcome).toBe('overlap');
    await vi.advanceTimersByTimeAsync(5 * minute);
    expect(maxActive).toBe(1);
    expect(runs).toBeLessThanOrEqual(3); // not 7: rounds that would overlap are not started
    expect(logger.lines.filter((l) => l.msg?.includes('previous round still running'))).toHaveLength(1);
    const stopping = monitor.stop(); // waits for the running round
    await vi.advanceTimersByTimeAsync(3 * minute);
    await stopping;
  });

  it('never lets a check’s error out; a check timing out counts as failed; 3 failures in a row alert once', async () => {
    const { monitor, sms, logger } = setup({ intervalMs: minute, jitterMs: 0, checkTimeoutMs: 5000 });
    let healthy = 0;
    monitor.register('throws', () => {
      throw new Error('database unreachable');
    });
    monitor.register('hangs', () => new Promise(() => {}));
    monitor.register('fine', () => {
      healthy++;
    });
    await monitor.start();
    await vi.advanceTimersByTimeAsync(5 * minute + 6000);
    expect(healthy).toBe(5); // the failing checks never stopped the others
    const status = monitor.status();
    expect(status.checks.throws).toMatchObject({ consecutiveFailures: 5, lastError: 'database unreachable' });
    expect(status.checks.hangs).toMatchObject({ consecutiveFailures: 5, lastError: 'timed out after 5000 ms' });
    expect(status.checks.fine).toMatchObject({ consecutiveFailures: 0 });
    expect(sms.received.map((m) => `${m.type}/${m.resourceId}`).sort()).toEqual(['MONITOR_CHECK_FAILED/hangs', 'MONITOR_CHECK_FAILED/throws']);
    expect(logger.lines.filter((l) => l.level === 'error' && l.msg?.includes('check "throws" failed'))).toHaveLength(5);
    await monitor.stop();
  });

  it('start-up invariants raise INVARIANT_VIOLATION for each violation; one that throws could not be checked, and is no violation', async () => {
    const { monitor, sms, logger } = setup();
    monitor.registerInvariant('twilio sender configured', () => 'TWILIO_FROM_NUMBER is not set');
    monitor.registerInvariant('pool not empty', () => Promise.resolve(false));
    monitor.registerInvariant('db reachable', () => {
      throw new Error('ECONNREFUSED');
    });
    monitor.registerInvariant('fine', () => true);
    const violations = await monitor.start();
    expect(violations.map((v) => [v.invariant, v.reason])).toEqual([
      ['twilio sender configured', 'TWILIO_FROM_NUMBER is not set'],
      ['pool not empty', 'does not hold'],
    ]);
    expect(sms.received.map((m) => [m.type, m.severity, m.resourceId])).toEqual([
      ['INVARIANT_VIOLATION', 'HIGH', 'twilio sender configured'],
      ['INVARIANT_VIOLATION', 'HIGH', 'pool not empty'],
    ]);
    const unchecked = logger.lines.filter((l) => l.msg?.includes('invariant "db reachable" could not be checked'));
    expect(unchecked.map((l) => [l.level, l.fields.reason])).toEqual([['warn', 'ECONNREFUSED']]);
    await monitor.stop();
  });

  it('an invariant that cannot be checked 3 times in a row raises INVARIANT_UNCHECKED (MEDIUM) once, resolved when it is checked again; only a holding one is reported as holding', async () => {
    const { monitor, sms } = setup();
    let databaseUp = false;
    let poolSize = 5;
    monitor.registerInvariant('pool not empty', () => {
      if (!databaseUp) throw new Error('circuit open for database: not called');
      return poolSize > 0;
    });
    monitor.registerInvariant('fine', () => true);
    const reports = [];
    for (let round = 0; round < 4; round++) reports.push(await monitor.verifyInvariants());
    expect(reports.map((r) => [r.violations.length, r.unchecked.map((u) => u.inARow), r.holding])).toEqual([
      [0, [1], ['fine']],
      [0, [2], ['fine']],
      [0, [3], ['fine']],
      [0, [4], ['fine']],
    ]);
    expect(sms.received.map((m) => [m.type, m.severity, m.resourceId])).toEqual([['INVARIANT_UNCHECKED', 'MEDIUM', 'pool not empty']]);
    expect(sms.received[0]!.message).toBe('Could not be checked 3 times in a row: circuit open for database: not called');

    databaseUp = true;
    poolSize = 0;
    const violated = await monitor.verifyInvariants();
    expect(violated.violations.map((v) => v.invariant)).toEqual(['pool not empty']);
    expect(sms.received.map((m) => `${m.type}/${m.kind}`)).toEqual(['INVARIANT_UNCHECKED/alert', 'INVARIANT_UNCHECKED/resolve', 'INVARIANT_VIOLATION/alert']);
    poolSize = 5;
    expect((await monitor.verifyInvariants()).holding).toEqual(['pool not empty', 'fine']);
  });

  it('a round the lock gives to another instance is skipped', async () => {
    const rounds: number[] = [];
    const { monitor } = setup({ intervalMs: minute, jitterMs: 0, lock: { kind: 'test', tryAcquire: ({ round }) => Promise.resolve(round % 2 === 0) } });
    monitor.register('probe', ({ round }) => {
      rounds.push(round);
    });
    await monitor.start();
    await vi.advanceTimersByTimeAsync(4 * minute);
    expect(rounds.length).toBe(2);
    expect(rounds.every((r) => r % 2 === 0)).toBe(true);
    expect(monitor.status().lastRound?.outcome).toMatch(/ran|lock/);
    await monitor.stop();
  });

  it('rejects bad options', () => {
    expect(() => new RuntimeMonitor({ intervalMs: 1 })).toThrow(/intervalMs/);
    expect(() => new RuntimeMonitor({ intervalMs: 1000, jitterMs: 1000 })).toThrow(/jitterMs/);
    const monitor = new RuntimeMonitor();
    monitor.register('a', () => {});
    expect(() => monitor.register('a', () => {})).toThrow(/already registered/);
  });
});
