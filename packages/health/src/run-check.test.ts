import { describe, expect, it } from 'vitest';
import { defineCheck } from './health-check.js';
import { normalizeOutcome, runCheck } from './run-check.js';

const now = () => 1_000;

describe('runCheck', () => {
  it('a check that never settles fails with "timed out after X ms" once its timeout elapses, and its signal is aborted', async () => {
    let seen: AbortSignal | undefined;
    const check = defineCheck('db', ({ signal }) => {
      seen = signal;
      return new Promise(() => {});
    });
    const started = performance.now();
    const run = await runCheck(check, 60, now);
    expect(run.status).toBe('fail');
    expect(run.timedOut).toBe(true);
    expect(run.observations).toEqual([{ status: 'fail', output: 'timed out after 60 ms' }]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(seen?.aborted).toBe(true);
    expect(String((seen?.reason as Error).message)).toContain('timed out after 60 ms');
  });

  it('a check that rejects with the abort reason when aborted is reported as a timeout too', async () => {
    const check = defineCheck(
      'db',
      ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
    );
    const run = await runCheck(check, 30, now);
    expect(run).toMatchObject({ status: 'fail', timedOut: true, observations: [{ output: 'timed out after 30 ms' }] });
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
    const rejected = await runCheck(defineCheck('b', async () => Promise.reject(new Error('nope'))), 1000, now);
    expect(rejected.observations).toEqual([{ status: 'fail', output: 'nope' }]);
  });

  it('an AggregateError without a message (dual-stack connect refused) lists its parts', async () => {
    const error = Object.assign(new AggregateError([new Error('connect ECONNREFUSED ::1:1'), new Error('connect ECONNREFUSED 127.0.0.1:1')], ''), {
      code: 'ECONNREFUSED',
    });
    const run = await runCheck(defineCheck('c', () => Promise.reject(error)), 1000, now);
    expect(run.observations[0]!.output).toBe('connect ECONNREFUSED ::1:1; connect ECONNREFUSED 127.0.0.1:1');
  });

  it('a rejection after the timeout is not an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const check = defineCheck('late', () => new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 40)));
      await runCheck(check, 10, now);
      await new Promise((r) => setTimeout(r, 80));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('records duration and the completion time from the clock', async () => {
    const run = await runCheck(defineCheck('ok', async () => new Promise((r) => setTimeout(r, 20))), 1000, () => 42);
    expect(run.completedAt).toBe(42);
    expect(run.durationMs).toBeGreaterThanOrEqual(15);
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
    expect(normalizeOutcome([{ status: 'pass', componentId: 'a' }, { status: 'fail', componentId: 'b' }])).toHaveLength(2);
  });

  it('turns a malformed outcome into a failure instead of trusting it', () => {
    expect(normalizeOutcome({ status: 'ok' } as never)[0]).toMatchObject({ status: 'fail' });
    expect(normalizeOutcome(42 as never)[0]).toMatchObject({ status: 'fail' });
  });
});
