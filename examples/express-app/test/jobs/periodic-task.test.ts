// The job loop under vitest's fake timers (no database here): it never overlaps, never lets
// an error out, logs a lasting failure once a minute and its recovery, drains a backlog
// without waiting, and stops cleanly.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PeriodicTask } from '../../src/jobs/periodic-task.js';
import { captureLogger } from './support/logs.js';

describe('PeriodicTask', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse('2026-03-01T09:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs every interval, never two runs at once: a slow run delays the next', async () => {
    const starts: number[] = [];
    let active = 0;
    let maxActive = 0;
    const task = new PeriodicTask({
      name: 'slow',
      logger: captureLogger(),
      nextDelayMs: () => 1000,
      run: async () => {
        starts.push(Date.now());
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((resolve) => setTimeout(resolve, 2500));
        active--;
      },
    });
    task.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(maxActive).toBe(1);
    const t0 = Date.parse('2026-03-01T09:00:00Z');
    expect(starts.map((t) => t - t0)).toEqual([1000, 4500, 8000]); // 1 s after each 2.5 s run ends
    const stopping = task.stop();
    await vi.advanceTimersByTimeAsync(3000);
    await stopping;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(starts).toHaveLength(3);
  });

  it('a failing run is logged (once a minute while it lasts), the loop carries on, and the recovery is logged', async () => {
    const logger = captureLogger();
    let failing = true;
    let runs = 0;
    const task = new PeriodicTask({
      name: 'outbox worker',
      logger,
      nextDelayMs: () => 1500,
      run: () => {
        runs++;
        if (failing) return Promise.reject(new Error('database unreachable: connect ECONNREFUSED 127.0.0.1:5432 for +15551234567'));
        return Promise.resolve();
      },
    });
    task.start();
    await vi.advanceTimersByTimeAsync(90_000); // 60 failed runs
    expect(runs).toBe(60);
    expect(task.consecutiveFailures).toBe(60);
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(2); // the first failure, then one a minute later
    expect(errors[0]).toMatchObject({ msg: 'outbox worker failed; will run again', fields: { job: 'outbox worker', consecutiveFailures: 1 } });
    expect(logger.text()).not.toContain('+15551234567');
    failing = false;
    await vi.advanceTimersByTimeAsync(1500);
    expect(task.consecutiveFailures).toBe(0);
    expect(logger.lines.at(-1)).toMatchObject({ level: 'info', msg: 'outbox worker: recovered', fields: { failedRuns: 60 } });
    await task.stop();
  });

  it('a run that reports more work waiting is followed at once, not after the interval', async () => {
    let backlog = 5;
    const starts: number[] = [];
    const task = new PeriodicTask({
      name: 'drain',
      logger: captureLogger(),
      nextDelayMs: () => 1500,
      run: () => {
        starts.push(Date.now());
        backlog--;
        return Promise.resolve(backlog > 0);
      },
    });
    task.start();
    await vi.advanceTimersByTimeAsync(1499);
    expect(starts).toHaveLength(0);
    for (let i = 0; i < 10; i++) await vi.advanceTimersByTimeAsync(1);
    expect(starts).toHaveLength(5);
    expect(starts.at(-1)! - starts[0]!).toBeLessThan(1500); // one after the other, not an interval apart
    await vi.advanceTimersByTimeAsync(1500);
    expect(starts).toHaveLength(6);
    await task.stop();
  });

  it('runNow joins a run in progress instead of starting a second', async () => {
    let runs = 0;
    const task = new PeriodicTask({
      name: 'manual',
      logger: captureLogger(),
      nextDelayMs: () => 60_000,
      run: async () => {
        runs++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      },
    });
    const both = Promise.all([task.runNow(), task.runNow()]);
    await vi.advanceTimersByTimeAsync(100);
    await both;
    expect(runs).toBe(1);
  });
});
