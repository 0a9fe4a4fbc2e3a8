import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveTimers, systemTimers, type Timers } from './timers.js';

describe('systemTimers', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('looks the global timers up on each call, so fake timers installed afterwards drive them', () => {
    vi.useFakeTimers();
    const fired: string[] = [];
    systemTimers.setTimeout(() => fired.push('kept'), 1000);
    const cancelled = systemTimers.setTimeout(() => fired.push('cancelled'), 1000);
    systemTimers.clearTimeout(cancelled);
    vi.advanceTimersByTime(999);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['kept']);
  });

  it('ignores a handle of undefined', () => {
    expect(() => systemTimers.clearTimeout(undefined)).not.toThrow();
  });

  it('is frozen, so no caller can swap the timers under another', () => {
    expect(Object.isFrozen(systemTimers)).toBe(true);
  });
});

describe('resolveTimers', () => {
  it('gives systemTimers when omitted and the injected timers otherwise', () => {
    const injected: Timers = { setTimeout: () => 1, clearTimeout: () => undefined };
    expect(resolveTimers(undefined)).toBe(systemTimers);
    expect(resolveTimers(injected)).toBe(injected);
  });

  it.each([null, 42, 'timers', {}, { setTimeout: () => 1 }, { clearTimeout: () => undefined }])(
    'rejects %j with a TypeError that says what was expected',
    (bad) => {
      expect(() => resolveTimers(bad as unknown as Timers)).toThrow(
        new TypeError('Expected `timers` to be an object with setTimeout and clearTimeout functions.'),
      );
    },
  );
});
