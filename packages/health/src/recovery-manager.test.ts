import { describe, expect, it, vi } from 'vitest';
import { isHardeningError } from '@hardening/core';
import { captureLogger, fakeClock, manualTimers } from '../test/support.js';
import { isRecoveryRefusedError, RecoveryRefusedError } from './errors/recovery-refused-error.js';
import { RecoveryManager } from './recovery-manager.js';

describe('RecoveryManager', () => {
  it('validates options and registrations', () => {
    expect(() => new RecoveryManager({ cooldownMs: -1 })).toThrow('Expected `cooldownMs` to be a non-negative number, got -1.');
    expect(() => new RecoveryManager({ maxPerHour: 0 })).toThrow('Expected `maxPerHour` to be a positive integer, got 0.');
    expect(() => new RecoveryManager({ historySize: 1.5 })).toThrow('Expected `historySize` to be a positive integer');
    const recovery = new RecoveryManager({ logger: captureLogger() });
    expect(() => recovery.register('all', () => {})).toThrow('other than "all"');
    expect(() => recovery.register('db', 'nope' as never)).toThrow('to be a function');
    expect(() => recovery.register('db', () => {}, { maxPerHour: -2 })).toThrow('Expected `db.maxPerHour`');
  });

  it('refuses with a typed error saying why and when it may run again', async () => {
    const clock = fakeClock();
    const recovery = new RecoveryManager({ actions: { db: () => {} }, cooldownMs: 10_000, clock, logger: captureLogger() });
    await recovery.recover('db');
    clock.advance(4_000);
    const error = await recovery.recover('db').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecoveryRefusedError);
    expect(isRecoveryRefusedError(error)).toBe(true);
    expect(isHardeningError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'RECOVERY_REFUSED', service: 'db', reason: 'cooldown', retryAfterMs: 6_000 });
    expect((error as Error).message).toBe('Recovery of "db" refused: ran recently; cooldown ends in 6 s');
    await expect(recovery.recover('nope')).rejects.toMatchObject({ reason: 'unknown-service' });
  });

  it('per-service limits override the defaults; cooldowns are per service', async () => {
    const clock = fakeClock();
    const recovery = new RecoveryManager({ cooldownMs: 300_000, clock, logger: captureLogger() });
    recovery.register('breaker', () => {}, { cooldownMs: 1_000 });
    recovery.register('db', () => {});
    await recovery.recover('breaker');
    await recovery.recover('db');
    clock.advance(1_000);
    await expect(recovery.recover('breaker')).resolves.toMatchObject({ outcome: 'succeeded' });
    expect(recovery.refusal('db')?.reason).toBe('cooldown');
  });

  it('an action slower than its timeout fails with a timeout and its signal is aborted', async () => {
    let signal: AbortSignal | undefined;
    const timers = manualTimers();
    const recovery = new RecoveryManager({ logger: captureLogger(), timers: timers.timers });
    recovery.register(
      'worker',
      (context) => {
        signal = context.signal;
        return new Promise(() => {});
      },
      { timeoutMs: 30 },
    );
    const recovering = recovery.recover('worker');
    await vi.waitFor(() => expect(timers.pendingDelays()).toEqual([30]), { timeout: 10_000, interval: 5 });
    timers.advance(29);
    expect(signal?.aborted).toBe(false);
    timers.advance(1);
    const attempt = await recovering;
    expect(attempt).toMatchObject({ outcome: 'failed', error: '"recovery of worker" timed out after 30 ms' });
    expect(signal?.aborted).toBe(true);
    expect(recovery.stats().services.worker!.inProgress).toBe(false);
  });

  it('keeps the last historySize attempts, newest first, and logs each attempt', async () => {
    const logger = captureLogger();
    const recovery = new RecoveryManager({ cooldownMs: 0, maxPerHour: 100, historySize: 3, logger });
    let n = 0;
    recovery.register('db', () => {
      n++;
      if (n % 2 === 0) throw new Error(`failure ${n}`);
    });
    for (let i = 0; i < 5; i++) await recovery.recover('db', i === 4 ? 'auto' : 'manual');
    const stats = recovery.stats();
    expect(stats).toMatchObject({ attempts: 5, successes: 3, failures: 2, successRate: 0.6 });
    expect(stats.recent).toHaveLength(3);
    expect(stats.recent.map((a) => [a.outcome, a.trigger])).toEqual([
      ['succeeded', 'auto'],
      ['failed', 'manual'],
      ['succeeded', 'manual'],
    ]);
    expect(stats.recent[1]!.error).toBe('failure 4');
    expect(logger.lines.filter((l) => l.msg === 'recovery: db failed')).toHaveLength(2);
    expect(logger.lines.filter((l) => l.msg === 'recovery: db succeeded')).toHaveLength(3);
  });

  it('stats before any attempt: successRate null; nextAllowedAt tells when the cooldown ends', async () => {
    const clock = fakeClock(Date.UTC(2025, 0, 1));
    const recovery = new RecoveryManager({ actions: { db: () => {} }, clock, logger: captureLogger() });
    expect(recovery.stats()).toMatchObject({ attempts: 0, successRate: null, services: { db: { nextAllowedAt: null, lastAttemptAt: null } } });
    await recovery.recover('db');
    expect(recovery.stats().services.db).toMatchObject({
      lastAttemptAt: '2025-01-01T00:00:00.000Z',
      nextAllowedAt: '2025-01-01T00:05:00.000Z',
    });
  });
});
