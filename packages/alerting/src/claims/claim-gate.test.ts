import { describe, expect, it } from 'vitest';
import { silentLogger } from '@hardening/core';
import { createMemoryAlertStore } from '../store/memory-store.js';
import type { AlertStore } from '../store/alert-store.js';
import { buildAlertMessage } from '../alert-message.js';
import { ClaimGate, type StoreCaller } from './claim-gate.js';

const now = Date.parse('2026-03-01T02:00:00Z');
const windowMs = 6 * 3_600_000;
const alert = () => buildAlertMessage({ type: 'DB_DOWN', severity: 'HIGH', resourceId: 'db1', title: 'Database down', message: 'x' }, now);

/** What ioredis throws for a request in flight when its connection drops: the answer is lost. */
const connectionClosed = () => new Error('Connection is closed.');
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });

/**
 * A store call whose first `lost` calls reach the store (the claim lands) and then lose
 * the answer, as a connection reset or a protocol error mid-request does.
 */
function losingAnswers(lost: number): StoreCaller & { calls: number } {
  const caller = (async <T>(_which: 'primary' | 'durable', fn: () => Promise<T>): Promise<T> => {
    caller.calls++;
    const answer = await fn();
    if (caller.calls <= lost) throw connectionClosed();
    return answer;
  }) as StoreCaller & { calls: number };
  caller.calls = 0;
  return caller;
}

/** A monotonic clock that moves only when the gate sleeps, so no test waits for real. */
function virtualTime() {
  let t = 0;
  return {
    elapsed: () => t,
    sleep: (ms: number) => {
      t += ms;
      return Promise.resolve();
    },
  };
}

function gate(store: AlertStore, call: StoreCaller, designatedSender?: boolean) {
  return new ClaimGate({ primary: store, durable: undefined, call, designatedSender, logger: silentLogger, unknownAnswerMs: 5000, ...virtualTime() });
}

const answering: StoreCaller = (_which, fn) => fn();

describe('ClaimGate: a claim whose answer is lost never becomes a second winner', () => {
  it('a claim that landed but lost its answer is asked again and wins; the other instance is a duplicate', async () => {
    const store = createMemoryAlertStore();
    const lossy = gate(store, losingAnswers(2));
    const message = alert();
    const first = await lossy.claim(message, now, windowMs);
    const second = await gate(store, answering).claim(alert(), now, windowMs);
    expect(first).toMatchObject({ claimed: true, via: 'store', alertId: message.id });
    expect(second).toMatchObject({ claimed: false, via: 'store', alertId: message.id });
  });

  it('another instance won while the answer was lost: the lost claim is a duplicate, not a local winner', async () => {
    const store = createMemoryAlertStore();
    const winner = alert();
    expect(await gate(store, answering).claim(winner, now, windowMs)).toMatchObject({ claimed: true });
    const late = await gate(store, losingAnswers(1)).claim(alert(), now, windowMs);
    expect(late).toMatchObject({ claimed: false, via: 'store', alertId: winner.id });
  });

  it('an answer still unknown after unknownAnswerMs defers the alert (no local win), with the reason', async () => {
    const store = createMemoryAlertStore();
    const call = losingAnswers(Number.POSITIVE_INFINITY);
    const result = await gate(store, call, true).claim(alert(), now, windowMs);
    expect(result).toMatchObject({ claimed: false, via: 'deferred' });
    expect(result.reason).toMatch(/left the claim unanswered for 5000 ms \(.*Connection is closed/);
    // Asked again with backoff (100, 200, ... ms) until the 5 s bound, not once and not forever.
    expect(call.calls).toBeGreaterThan(3);
    expect(call.calls).toBeLessThan(20);
  });

  it('a store known down (the request never reached it) still falls back at once: local dedup, or the designated sender', async () => {
    const store = createMemoryAlertStore();
    let calls = 0;
    const down: StoreCaller = () => {
      calls++;
      return Promise.reject(refused());
    };
    expect(await gate(store, down).claim(alert(), now, windowMs)).toMatchObject({ claimed: true, via: 'local' });
    expect(await gate(store, down, true).claim(alert(), now, windowMs)).toMatchObject({ claimed: true, via: 'designated' });
    expect(calls).toBe(2);
  });

  it('an unknown answer followed by the store going down (breaker open) falls back as a down store', async () => {
    const store = createMemoryAlertStore();
    let calls = 0;
    const call: StoreCaller = () => {
      calls++;
      if (calls === 1) return Promise.reject(connectionClosed());
      return Promise.reject(refused());
    };
    expect(await gate(store, call, true).claim(alert(), now, windowMs)).toMatchObject({ claimed: true, via: 'designated' });
    expect(calls).toBe(2);
  });
});
