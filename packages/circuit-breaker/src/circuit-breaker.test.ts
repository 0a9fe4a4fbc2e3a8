import { describe, expect, it, vi } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';
import { isCircuitOpenError } from './circuit-open-error.js';
import type { StateChange } from './circuit-state.js';
import { fakeClock } from '../test/fake-clock.js';

const boom = () => Promise.reject(new Error('provider down'));
const ok = () => Promise.resolve('ok');

async function fail(breaker: CircuitBreaker, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await expect(breaker.execute(boom)).rejects.toThrow('provider down');
}

describe('CircuitBreaker: consecutive failures', () => {
  it('opens after failureThreshold consecutive failures and refuses with a typed error', async () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker({ name: 'twilio_sms', failureThreshold: 3, cooldownMs: 30_000, clock });
    await fail(breaker, 2);
    expect(breaker.state).toBe('closed');
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');

    const fn = vi.fn(ok);
    const error = await breaker.execute(fn).catch((e: unknown) => e);
    expect(fn).not.toHaveBeenCalled();
    expect(isCircuitOpenError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'CIRCUIT_OPEN', breakerName: 'twilio_sms', state: 'open', retryAt: clock.now() + 30_000 });
  });

  it('a success resets the consecutive count', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 3, clock: fakeClock() });
    await fail(breaker, 2);
    await breaker.execute(ok);
    await fail(breaker, 2);
    expect(breaker.state).toBe('closed');
    expect(breaker.snapshot().consecutiveFailures).toBe(2);
  });

  it('errors excluded by isFailure neither count nor reset the count', async () => {
    class ValidationError extends Error {}
    const breaker = new CircuitBreaker({
      failureThreshold: 2,
      clock: fakeClock(),
      isFailure: (error) => !(error instanceof ValidationError),
    });
    await fail(breaker, 1);
    for (let i = 0; i < 5; i++) {
      await expect(breaker.execute(() => Promise.reject(new ValidationError('bad phone')))).rejects.toThrow('bad phone');
    }
    expect(breaker.state).toBe('closed');
    expect(breaker.snapshot()).toMatchObject({ consecutiveFailures: 1, totals: { ignored: 5, failures: 1 } });
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');
  });
});

describe('CircuitBreaker: half-open', () => {
  it('stays open for the cooldown, then lets one probe through; success closes', async () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 30_000, clock });
    await fail(breaker, 1);
    clock.advance(29_999);
    expect(breaker.acquire()).toBe(-1);
    clock.advance(1);
    const probe = breaker.acquire();
    expect(probe).toBeGreaterThanOrEqual(0);
    expect(breaker.state).toBe('half-open');
    expect(breaker.acquire()).toBe(-1); // only one probe
    expect(isCircuitOpenError(breaker.refusal())).toBe(true);
    breaker.recordSuccess(probe, 5);
    expect(breaker.state).toBe('closed');
  });

  it('a failed probe re-opens for a fresh cooldown', async () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1000, clock });
    await fail(breaker, 1);
    clock.advance(1000);
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(breaker.snapshot().nextAttemptAt).toBe(clock.now() + 1000);
  });

  it('with several probes and a failure-rate threshold, decides on all their outcomes', async () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      failureRateThreshold: 50,
      halfOpenMaxCalls: 4,
      cooldownMs: 1000,
      clock,
    });
    await fail(breaker, 1);
    clock.advance(1000);
    const permits = [breaker.acquire(), breaker.acquire(), breaker.acquire(), breaker.acquire()];
    expect(permits.every((p) => p >= 0)).toBe(true);
    expect(breaker.acquire()).toBe(-1);
    breaker.recordFailure(permits[0]!, 1, new Error('x'));
    breaker.recordSuccess(permits[1]!, 1);
    breaker.recordSuccess(permits[2]!, 1);
    expect(breaker.state).toBe('half-open');
    breaker.recordSuccess(permits[3]!, 1); // 1 of 4 failed = 25% < 50%
    expect(breaker.state).toBe('closed');
  });

  it('a hung probe does not hold the breaker half-open forever', async () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1000, maxHalfOpenWaitMs: 5000, clock });
    await fail(breaker, 1);
    clock.advance(1000);
    const hung = breaker.acquire();
    expect(hung).toBeGreaterThanOrEqual(0);
    clock.advance(5000);
    const changes: StateChange[] = [];
    breaker.onStateChange((c) => changes.push(c));
    expect(breaker.acquire()).toBe(-1);
    expect(changes.map((c) => c.reason)).toEqual(['probe-timed-out']);
    breaker.recordSuccess(hung, 6000); // the late outcome belongs to an old generation
    expect(breaker.state).toBe('open');
  });
});

describe('CircuitBreaker: sliding windows', () => {
  it('opens on failure rate over a count window once minimumCalls is reached', async () => {
    const breaker = new CircuitBreaker({
      failureThreshold: Infinity,
      failureRateThreshold: 50,
      minimumCalls: 10,
      slidingWindow: { type: 'count', size: 10 },
      clock: fakeClock(),
    });
    for (let i = 0; i < 4; i++) {
      await breaker.execute(ok);
      await fail(breaker, 1);
    }
    expect(breaker.state).toBe('closed'); // 8 calls < minimumCalls
    await breaker.execute(ok);
    await fail(breaker, 1); // 10 calls, 5 failures = 50%
    expect(breaker.state).toBe('open');
    const changes = breaker.snapshot();
    expect(changes.openedAt).toBeDefined();
  });

  it('a count window forgets outcomes older than its size', async () => {
    const breaker = new CircuitBreaker({
      failureThreshold: Infinity,
      failureRateThreshold: 50,
      minimumCalls: 4,
      slidingWindow: { type: 'count', size: 4 },
      clock: fakeClock(),
    });
    await fail(breaker, 1);
    for (let i = 0; i < 6; i++) await breaker.execute(ok);
    expect(breaker.snapshot().window).toMatchObject({ calls: 4, failures: 0, failureRate: 0 });
  });

  it('a time window drops buckets older than its size', async () => {
    const clock = fakeClock(0);
    const breaker = new CircuitBreaker({
      failureThreshold: Infinity,
      failureRateThreshold: 60,
      minimumCalls: 3,
      slidingWindow: { type: 'time', sizeMs: 10_000, buckets: 10 },
      clock,
    });
    await fail(breaker, 2);
    clock.advance(10_000); // both failures roll out of the window
    await breaker.execute(ok);
    await breaker.execute(ok);
    await fail(breaker, 1);
    expect(breaker.snapshot().window).toMatchObject({ calls: 3, failures: 1 });
    expect(breaker.state).toBe('closed');
    await fail(breaker, 2); // 3 of 5 = 60%
    expect(breaker.state).toBe('open');
  });

  it('opens on slow-call rate even when every call succeeds', async () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker({
      slowCallRateThreshold: 50,
      slowCallDurationMs: 2000,
      minimumCalls: 4,
      clock,
    });
    const slow = () =>
      breaker.execute(() => {
        clock.advance(2500);
        return Promise.resolve('late');
      });
    await breaker.execute(ok);
    await breaker.execute(ok);
    await slow();
    expect(breaker.state).toBe('closed');
    const changes: StateChange[] = [];
    breaker.onStateChange((c) => changes.push(c));
    await slow();
    expect(breaker.state).toBe('open');
    expect(changes[0]?.reason).toBe('slow-call-rate');
  });
});

describe('CircuitBreaker: manual control, events, persistence', () => {
  it('open, close, reset and isolate', async () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker({ cooldownMs: 1000, clock });
    const reasons: string[] = [];
    breaker.onStateChange((c) => reasons.push(`${c.from}->${c.to}:${c.reason}`));
    breaker.open();
    expect(breaker.state).toBe('open');
    breaker.close();
    const release = breaker.isolate();
    clock.advance(1_000_000);
    expect(breaker.acquire()).toBe(-1);
    expect(breaker.refusal()).toMatchObject({ state: 'isolated', retryAt: undefined });
    release();
    expect(breaker.state).toBe('closed');
    await fail(breaker, 1);
    breaker.reset();
    expect(breaker.snapshot().totals).toEqual({ successes: 0, failures: 0, ignored: 0, rejections: 0 });
    expect(reasons).toEqual(['closed->open:manual', 'open->closed:manual', 'closed->isolated:manual', 'isolated->closed:manual', 'closed->closed:manual']);
  });

  it('a throwing listener is reported as a warning and does not break the breaker', async () => {
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const breaker = new CircuitBreaker({ failureThreshold: 1, clock: fakeClock() });
    breaker.onStateChange(() => {
      throw new Error('listener bug');
    });
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(warning).toHaveBeenCalledWith(expect.stringContaining('listener bug'), 'HardeningWarning');
    warning.mockRestore();
  });

  it('save and restore carry an open breaker across instances', async () => {
    const clock = fakeClock();
    const first = new CircuitBreaker({ name: 'stripe', failureThreshold: 1, cooldownMs: 5000, clock });
    await fail(first, 1);
    const saved = JSON.parse(JSON.stringify(first.save())) as ReturnType<CircuitBreaker['save']>;
    const second = new CircuitBreaker({ name: 'stripe', failureThreshold: 1, cooldownMs: 5000, clock });
    second.restore(saved);
    expect(second.snapshot()).toMatchObject({ state: 'open', nextAttemptAt: clock.now() + 5000, openedAt: clock.now() });
    expect(() => second.restore({ state: 'weird' } as never)).toThrow(TypeError);
  });

  it('an outcome from before a state change does not count after it', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, clock: fakeClock() });
    const early = breaker.acquire();
    breaker.open();
    breaker.close();
    breaker.recordFailure(early, 1, new Error('late'));
    breaker.recordFailure(early, 1, new Error('late'));
    expect(breaker.state).toBe('closed');
    expect(breaker.snapshot().consecutiveFailures).toBe(0);
  });

  it('one call failing (or timing out elsewhere) never disturbs another in-flight call', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1 });
    let finish!: (value: string) => void;
    const slow = breaker.execute(() => new Promise<string>((resolve) => (finish = resolve)));
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');
    finish('still delivered');
    await expect(slow).resolves.toBe('still delivered');
  });

  it('rejects bad options with a TypeError naming the option', () => {
    expect(() => new CircuitBreaker({ failureThreshold: 0 })).toThrow('Expected `failureThreshold` to be a positive integer or Infinity, got 0.');
    expect(() => new CircuitBreaker({ failureRateThreshold: 150 })).toThrow('`failureRateThreshold`');
    expect(() => new CircuitBreaker({ cooldownMs: -1 })).toThrow('`cooldownMs`');
    expect(() => new CircuitBreaker({ name: '' })).toThrow('`name`');
    expect(() => new CircuitBreaker({ failureRateThreshold: 50, slidingWindow: { type: 'count', size: 0 } })).toThrow('`slidingWindow.size`');
  });
});

describe('CircuitBreaker: configure() is live for every rule', () => {
  const slowCall = (breaker: CircuitBreaker, clock: ReturnType<typeof fakeClock>) =>
    breaker.execute(() => {
      clock.advance(1500);
      return Promise.resolve('late');
    });

  it('a slow-call rule set after the first call opens the breaker on slow calls (issue 9, defect 4)', async () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker({ name: 'openai_chat', clock });
    await breaker.execute(ok); // first use, no rate rule: no window yet
    breaker.configure({ slowCallRateThreshold: 50, slowCallDurationMs: 1000, minimumCalls: 2 });
    await slowCall(breaker, clock);
    expect(breaker.state).toBe('closed');
    const changes: StateChange[] = [];
    breaker.onStateChange((c) => changes.push(c));
    await slowCall(breaker, clock);
    expect(breaker.state).toBe('open');
    expect(changes.map((c) => c.reason)).toEqual(['slow-call-rate']);
  });

  it('changes the consecutive, failure-rate, cooldown and probe rules in place, keeping state and listeners', async () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker({ failureThreshold: 10, clock });
    const reasons: string[] = [];
    breaker.onStateChange((c) => reasons.push(c.reason));
    await fail(breaker, 2);
    breaker.configure({ failureThreshold: 3 });
    expect(breaker.snapshot().consecutiveFailures).toBe(2); // counts stay
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');

    breaker.configure({ cooldownMs: 100, halfOpenMaxCalls: 2 });
    expect(breaker.options.maxHalfOpenWaitMs).toBe(100); // still follows cooldownMs
    clock.advance(100); // the new cooldown applies to the next open; this one was due in 30 s
    expect(breaker.acquire()).toBe(-1);
    breaker.open();
    clock.advance(100);
    const probes = [breaker.acquire(), breaker.acquire()];
    expect(probes.every((p) => p >= 0)).toBe(true);
    probes.forEach((p) => breaker.recordSuccess(p, 1));
    expect(breaker.state).toBe('closed');

    breaker.configure({ failureThreshold: Infinity, failureRateThreshold: 50, minimumCalls: 2 });
    await breaker.execute(ok);
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(reasons).toEqual(['consecutive-failures', 'manual', 'cooldown-elapsed', 'probe-succeeded', 'failure-rate']);
  });

  it('undefined turns a rate rule off; a bad option throws and changes nothing', async () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker({ slowCallRateThreshold: 50, slowCallDurationMs: 1000, minimumCalls: 1, clock });
    breaker.configure({ slowCallRateThreshold: undefined });
    await slowCall(breaker, clock);
    expect(breaker.state).toBe('closed');
    expect(breaker.snapshot().window).toBeUndefined();
    expect(() => breaker.configure({ failureThreshold: 0 })).toThrow('`failureThreshold`');
    expect(breaker.options.failureThreshold).toBe(3);
  });
});
