import { describe, expect, it } from 'vitest';
import { BreakerRegistry, getDefaultRegistry } from './breaker-registry.js';
import { fakeClock } from '../test/fake-clock.js';
import type { StateChange } from './circuit-state.js';

describe('BreakerRegistry', () => {
  it('creates one breaker per name with defaults, per-name options and call options in that order', () => {
    const registry = new BreakerRegistry({ defaults: { failureThreshold: 5, cooldownMs: 1000 } });
    registry.configure('openai_chat', { failureThreshold: 7 });
    const chat = registry.get('openai_chat', { cooldownMs: 2000 });
    expect(registry.get('openai_chat')).toBe(chat);
    expect(chat.options).toMatchObject({ name: 'openai_chat', failureThreshold: 7, cooldownMs: 2000 });
    expect(registry.get('twilio_sms').options).toMatchObject({ failureThreshold: 5, cooldownMs: 1000 });
    expect(registry.size).toBe(2);
  });

  it('snapshots every breaker and relays every state change', () => {
    const registry = new BreakerRegistry();
    const changes: StateChange[] = [];
    registry.onStateChange((c) => changes.push(c));
    registry.get('twilio_sms').open();
    registry.get('slack');
    expect(registry.snapshot().map((s) => [s.name, s.state])).toEqual([
      ['twilio_sms', 'open'],
      ['slack', 'closed'],
    ]);
    expect(changes.map((c) => `${c.name}:${c.to}`)).toEqual(['twilio_sms:open']);
  });

  it('configure() after first use reaches the breaker callers already hold, slow-call rule included (issue 9, defect 4)', async () => {
    const clock = fakeClock();
    const registry = new BreakerRegistry({ defaults: { clock, cooldownMs: 5000 } });
    const chat = registry.get('openai_chat'); // the app keeps this reference
    await chat.execute(() => Promise.resolve('first call'));
    const version = registry.version;
    registry.configure('openai_chat', { slowCallRateThreshold: 50, slowCallDurationMs: 1000, minimumCalls: 2 });
    expect(registry.get('openai_chat')).toBe(chat);
    expect(registry.version).toBeGreaterThan(version); // caches of option facts look again
    expect(chat.options).toMatchObject({ cooldownMs: 5000, slowCallRateThreshold: 50 });
    const slow = () =>
      chat.execute(() => {
        clock.advance(2000);
        return Promise.resolve('late');
      });
    await slow();
    await slow();
    expect(chat.state).toBe('open');
    expect(registry.snapshot()[0]).toMatchObject({ name: 'openai_chat', state: 'open' });
    // Configuring again replaces the whole set: the slow-call rule is gone.
    registry.configure('openai_chat', { failureThreshold: 2 });
    expect(chat.options).toMatchObject({ failureThreshold: 2, slowCallRateThreshold: undefined, cooldownMs: 5000 });
  });

  it('the default registry is one object per process, kept on globalThis', () => {
    const key = Symbol.for('@hardening/circuit-breaker/default-registry');
    expect(getDefaultRegistry()).toBe(getDefaultRegistry());
    expect((globalThis as Record<symbol, unknown>)[key]).toBe(getDefaultRegistry());
  });

  it('holds 10,000 named breakers', () => {
    const registry = new BreakerRegistry();
    for (let i = 0; i < 10_000; i++) registry.get(`tenant_${i}`);
    expect(registry.size).toBe(10_000);
    expect(registry.snapshot()).toHaveLength(10_000);
  });
});
