import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureLogger, fakeClock } from '../test/support.js';
import { startAutoRecovery } from './auto-recovery.js';
import { defineCheck } from './health-check.js';
import { HealthMonitor } from './health-monitor.js';
import { RecoveryManager } from './recovery-manager.js';

afterEach(() => {
  vi.useRealTimers();
});

function setup(failuresBeforeRecovery = 2) {
  const clock = fakeClock();
  const logger = captureLogger();
  const state = { up: false };
  const monitor = new HealthMonitor({
    checks: [defineCheck('postgres', () => state.up), defineCheck('cache', () => false, { critical: false })],
    clock,
    logger,
  });
  let reconnects = 0;
  const recovery = new RecoveryManager({
    actions: {
      postgres: () => {
        reconnects++;
        state.up = true;
      },
    },
    clock,
    logger,
  });
  const loop = startAutoRecovery(recovery, monitor, { intervalMs: 60_000, failuresBeforeRecovery, logger });
  return { clock, state, monitor, recovery, loop, reconnects: () => reconnects, logger };
}

describe('startAutoRecovery', () => {
  it('runs the recovery of a check that keeps failing, once per cooldown, and records it as auto', async () => {
    const { clock, state, recovery, loop, reconnects } = setup(2);
    try {
      expect(await loop.runOnce()).toEqual([]);
      clock.advance(6_000);
      const attempts = await loop.runOnce();
      expect(attempts).toMatchObject([{ service: 'postgres', trigger: 'auto', outcome: 'succeeded' }]);
      expect(reconnects()).toBe(1);

      // It breaks again at once: the cooldown holds the next attempt back.
      state.up = false;
      for (let i = 0; i < 3; i++) {
        clock.advance(6_000);
        expect(await loop.runOnce()).toEqual([]);
      }
      expect(reconnects()).toBe(1);
      clock.advance(300_000);
      expect(await loop.runOnce()).toHaveLength(1);
      expect(recovery.stats().recent.every((a) => a.trigger === 'auto')).toBe(true);
    } finally {
      loop.stop();
    }
  });

  it('ignores failing checks that have no action and checks that recover in between', async () => {
    const { clock, state, loop, reconnects } = setup(3);
    // Past maxStaleMs, so each round sees a fresh run.
    const fresh = 6_000;
    try {
      await loop.runOnce();
      clock.advance(fresh);
      await loop.runOnce();
      state.up = true;
      clock.advance(fresh);
      await loop.runOnce();
      state.up = false;
      clock.advance(fresh);
      await loop.runOnce();
      clock.advance(fresh);
      await loop.runOnce();
      expect(reconnects()).toBe(0);
      clock.advance(fresh);
      await loop.runOnce();
      expect(reconnects()).toBe(1);
    } finally {
      loop.stop();
    }
  });

  it('counts one cached run once, however many rounds see it', async () => {
    const { clock, loop, reconnects } = setup(2);
    try {
      await loop.runOnce();
      await loop.runOnce();
      await loop.runOnce();
      expect(reconnects()).toBe(0);
      clock.advance(6_000);
      await loop.runOnce();
      expect(reconnects()).toBe(1);
    } finally {
      loop.stop();
    }
  });

  it('maps checks to services with serviceFor, and rounds never overlap', async () => {
    const clock = fakeClock();
    const monitor = new HealthMonitor({ checks: [defineCheck('db-primary', () => false)], clock, logger: captureLogger() });
    let release!: () => void;
    let runs = 0;
    const recovery = new RecoveryManager({
      actions: {
        database: () => {
          runs++;
          return new Promise<void>((r) => (release = r));
        },
      },
      clock,
      logger: captureLogger(),
    });
    const loop = startAutoRecovery(recovery, monitor, {
      failuresBeforeRecovery: 1,
      serviceFor: (r) => (r.name.startsWith('db-') ? 'database' : undefined),
      logger: captureLogger(),
    });
    try {
      const first = loop.runOnce();
      const second = loop.runOnce();
      expect(second).toBe(first);
      await vi.waitFor(() => expect(runs).toBe(1), { timeout: 10_000, interval: 5 }); // the round is inside the action
      expect(loop.runOnce()).toBe(first);
      release();
      expect(await first).toHaveLength(1);
      expect(runs).toBe(1);
    } finally {
      loop.stop();
    }
  });

  it('validates its options', () => {
    const recovery = new RecoveryManager({ logger: captureLogger() });
    const monitor = new HealthMonitor({ logger: captureLogger() });
    expect(() => startAutoRecovery(recovery, monitor, { intervalMs: 0 })).toThrow('Expected `intervalMs` to be a positive number');
    expect(() => startAutoRecovery(recovery, monitor, { failuresBeforeRecovery: 0 })).toThrow('Expected `failuresBeforeRecovery`');
  });

  it('the interval drives rounds by itself', async () => {
    vi.useFakeTimers();
    const state = { up: false };
    const monitor = new HealthMonitor({ checks: [defineCheck('postgres', () => state.up)], cacheMs: 1, logger: captureLogger() });
    const recovery = new RecoveryManager({ actions: { postgres: () => void (state.up = true) }, logger: captureLogger() });
    const loop = startAutoRecovery(recovery, monitor, { intervalMs: 20, failuresBeforeRecovery: 1, logger: captureLogger() });
    try {
      await vi.advanceTimersByTimeAsync(19);
      expect(state.up).toBe(false); // no round before the first interval
      await vi.advanceTimersByTimeAsync(1);
      expect(state.up).toBe(true);
      expect(recovery.stats().recent[0]).toMatchObject({ trigger: 'auto', outcome: 'succeeded' });
    } finally {
      loop.stop();
    }
  });
});
