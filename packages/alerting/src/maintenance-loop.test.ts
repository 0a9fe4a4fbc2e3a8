import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MaintenanceReport } from './alert-service-options.js';
import { MaintenanceLoop } from './maintenance-loop.js';
import { captureLogger } from '../test/support/capture-logger.js';

const report: MaintenanceReport = { escalated: 0, unconfirmed: 0, pruned: false, retried: 0, pending: 0, replayed: 0 };

describe('MaintenanceLoop', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a round asked for while one runs joins it instead of starting a second', async () => {
    let rounds = 0;
    let finish!: () => void;
    const loop = new MaintenanceLoop(() => {
      rounds++;
      return new Promise((resolve) => (finish = () => resolve(report)));
    }, captureLogger());
    const first = loop.run();
    const second = loop.run();
    expect(second).toBe(first);
    finish();
    await first;
    const third = loop.run();
    expect(rounds).toBe(2);
    finish();
    await expect(third).resolves.toEqual(report);
  });

  it('runs every interval after the previous round, logs a failed round, and stops when told', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const logger = captureLogger();
    let rounds = 0;
    const loop = new MaintenanceLoop(() => {
      rounds++;
      if (rounds === 2) return Promise.reject(new Error('store gone'));
      return Promise.resolve(report);
    }, logger);
    loop.start(10_000);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(rounds).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(rounds).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(rounds).toBe(2);
    expect(logger.lines.some((l) => l.msg === 'alerting maintenance failed')).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(rounds).toBe(3);
    loop.stop();
    await loop.idle();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(rounds).toBe(3);
  });
});
