import { afterEach, describe, expect, it, vi } from 'vitest';
import { manualTimers } from '../test/support.js';
import { defineCheck } from './health-check.js';
import { normalizeOutcome, runCheck } from './run-check.js';

const now = () => 1_000;

// Timeouts are driven by vi.useFakeTimers (the default timers follow it) or by injected
// timers; no test here waits real time.
afterEach(() => {
  vi.useRealTimers();
});

describe('runCheck', () => {
  it('a check that never settles fails with "timed out after X ms" once its timeout elapses, and its signal is aborted', async () => {
    let seen: AbortSignal | undefined;
    const check = defineCheck('db', ({ signal }) => {
      seen = signal;
      return new Promise(() => {});
    });
    vi.useFakeTimers();
    let settled = false;
    const running = runCheck(check, 60, now).finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(59);
    expect(settled).toBe(false);
    expect(seen?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const run = await running;
    expect(run.status).toBe('fail');
    expect(run.timedOut).toBe(true);
    expect(run.observations).toEqual([{ status: 'fail', output: 'timed out after 60 ms' }]);
    expect(run.durationMs).toBe(60);
    expect(seen?.aborted).toBe(true);
    expect(String((seen?.reason as Error).message)).toContain('timed out after 60 ms');
  });

  it('a check that rejects with the abort reason when aborted is reported as a timeout too', async () => {
    const check = defineCheck('db', ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))));
    vi.useFakeTimers();
    const running = runCheck(check, 30, now);
    await vi.advanceTimersByTimeAsync(30);
    expect(await running).toMatchObject({ status: 'fail', timedOut: true, observations: [{ output: 'timed out after 30 ms' }] });
  });

  it('times out on the injected timers, and clears the timer of a check that settles first', async () => {
    const clock = manualTimers();
    const hanging = runCheck(
      defineCheck('db', () => new Promise(() => {})),
      250,
      now,
      clock.timers,
    );
    await vi.waitFor(() => expect(clock.pendingDelays()).toEqual([250]), { timeout: 10_000, interval: 5 });
    clock.advance(250);
    expect(await hanging).toMatchObject({ status: 'fail', timedOut: true, observations: [{ output: 'timed out after 250 ms' }] });
    const quick = await runCheck(
      defineCheck('ok', () => 'pass'),
      250,
      now,
      clock.timers,
    );
    expect(quick.status).toBe('pass');
    expect(clock.pendingDelays()).toEqual([]);
  });

  it('thrown errors (sync or async) fail the check with their scrubbed message', async () => {
    const sync = await runCheck(
      defineCheck('a', () => {
        throw new Error('connect ECONNREFUSED for +15551234567 with Bearer abcdefghijklmnop');
      }),
      1000,
      now,
    );
    expect(sync.status).toBe('fail');
    expect(sync.timedOut).toBe(false);
    expect(sync.observations[0]!.output).toBe('connect ECONNREFUSED for +1********67 with [redacted]');
    const rejected = await runCheck(
      defineCheck('b', async () => Promise.reject(new Error('nope'))),
      1000,
      now,
    );
    expect(rejected.observations).toEqual([{ status: 'fail', output: 'nope' }]);
  });

  it('an AggregateError without a message (dual-stack connect refused) lists its parts', async () => {
    const error = Object.assign(new AggregateError([new Error('connect ECONNREFUSED ::1:1'), new Error('connect ECONNREFUSED 127.0.0.1:1')], ''), {
      code: 'ECONNREFUSED',
    });
    const run = await runCheck(
      defineCheck('c', () => Promise.reject(error)),
      1000,
      now,
    );
    expect(run.observations[0]!.output).toBe('connect ECONNREFUSED ::1:1; connect ECONNREFUSED 127.0.0.1:1');
  });

  it('a rejection after the timeout is not an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let rejectLate!: (error: Error) => void;
      const check = defineCheck('late', () => new Promise((_, reject) => (rejectLate = reject)));
      const clock = manualTimers();
      const running = runCheck(check, 10, now, clock.timers);
      await vi.waitFor(() => expect(clock.pendingDelays()).toEqual([10]), { timeout: 10_000, interval: 5 });
      clock.advance(10);
      expect((await running).timedOut).toBe(true);
      rejectLate(new Error('late'));
      // unhandledRejection is emitted after the microtask queue drains; give it two macrotasks.
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('records duration and the completion time from the clock', async () => {
    vi.useFakeTimers();
    const running = runCheck(
      defineCheck('ok', async () => new Promise((r) => setTimeout(r, 20))),
      1000,
      () => 42,
    );
    await vi.advanceTimersByTimeAsync(20);
    const run = await running;
    expect(run.completedAt).toBe(42);
    expect(run.durationMs).toBe(20);
    expect(run.status).toBe('pass');
  });
});

describe('normalizeOutcome', () => {
  it('accepts nothing, booleans, statuses, one observation or several', () => {
    expect(normalizeOutcome(undefined)).toEqual([{ status: 'pass' }]);
    expect(normalizeOutcome(true)).toEqual([{ status: 'pass' }]);
    expect(normalizeOutcome(false)).toEqual([{ status: 'fail' }]);
    expect(normalizeOutcome('warn')).toEqual([{ status: 'warn' }]);
    expect(normalizeOutcome({ status: 'warn', observedValue: 3 })).toEqual([{ status: 'warn', observedValue: 3 }]);
    expect(normalizeOutcome([])).toEqual([{ status: 'pass' }]);
    expect(
      normalizeOutcome([
        { status: 'pass', componentId: 'a' },
        { status: 'fail', componentId: 'b' },
      ]),
    ).toHaveLength(2);
  });

  it('turns a malformed outcome into a failure instead of trusting it', () => {
    expect(normalizeOutcome({ status: 'ok' } as never)[0]).toMatchObject({ status: 'fail' });
    expect(normalizeOutcome(42 as never)[0]).toMatchObject({ status: 'fail' });
  });
});
