// The lazy signal is an AbortSignal to every consumer we know of, before and after its real
// signal exists, and aborted or not.
import { EventEmitter, once } from 'node:events';
import { inspect } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LazySignalState, lazySignal } from './lazy-signal.js';

const fresh = () => {
  const state = new LazySignalState();
  return { state, signal: lazySignal(state) };
};

describe('lazySignal', () => {
  it('reads like an AbortSignal without creating one', () => {
    const { state, signal } = fresh();
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(Object.prototype.toString.call(signal)).toBe('[object AbortSignal]');
    expect(signal.aborted).toBe(false);
    expect(() => signal.throwIfAborted()).not.toThrow();
    expect(state.controller).toBeUndefined();
    const reason = new Error('timed out');
    state.abort(reason);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
    expect(() => signal.throwIfAborted()).toThrow(reason);
    expect(state.controller).toBeUndefined();
  });

  it('listeners (addEventListener and onabort) fire once when it aborts', () => {
    const { state, signal } = fresh();
    const calls: string[] = [];
    signal.addEventListener('abort', () => calls.push('listener'));
    signal.onabort = () => calls.push('onabort');
    state.abort(new Error('x'));
    state.abort(new Error('again'));
    expect(calls).toEqual(['listener', 'onabort']);
  });

  it('AbortSignal.any follows it', () => {
    const { state, signal } = fresh();
    const any = AbortSignal.any([signal]);
    const reason = new Error('deadline');
    state.abort(reason);
    expect(any.aborted).toBe(true);
    expect(any.reason).toBe(reason);
  });

  it('timers/promises and events.once are cancelled by it', async () => {
    const first = fresh();
    const waiting = sleep(60_000, 'late', { signal: first.signal }).catch((e: Error) => e.name);
    first.state.abort(new Error('x'));
    expect(await waiting).toBe('AbortError');
    const second = fresh();
    const event = once(new EventEmitter(), 'never', { signal: second.signal }).catch((e: Error) => e.name);
    second.state.abort(new Error('x'));
    expect(await event).toBe('AbortError');
  });

  it('a signal aborted before its first real use is created aborted, with the reason', () => {
    const { state, signal } = fresh();
    const reason = new Error('early');
    state.abort(reason);
    const any = AbortSignal.any([signal]); // needs the real signal
    expect(state.controller).toBeDefined();
    expect(any.aborted).toBe(true);
    expect(any.reason).toBe(reason);
    expect(signal.aborted).toBe(true);
  });

  it('prints like a real AbortSignal (console.log, util.inspect), not as its internal state', () => {
    const { state, signal } = fresh();
    expect(inspect(signal)).toBe(inspect(new AbortController().signal));
    expect(inspect({ signal })).toBe('{ signal: AbortSignal { aborted: false } }');
    state.abort(new Error('late'));
    expect(inspect(signal)).toBe('AbortSignal { aborted: true }');
    expect(inspect(signal)).not.toContain('LazySignalState');
  });
});
