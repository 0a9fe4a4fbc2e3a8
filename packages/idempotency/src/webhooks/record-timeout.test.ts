// `recordTimeoutMs`: a webhook's reply is not held back (nor lost) by a dedup store that is
// slow or fails to record it once the handler has answered. A real memory store, its
// `complete` delayed or failing the way a Redis losing its connection does.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { recordingLogger } from '../../test/support/guard-helpers.js';
import { createMemoryStore } from '../memory-store.js';
import type { IdempotencyStore } from '../store.js';
import { createWebhookDedup } from './webhook-dedup.js';

/** The memory store, with `complete` slowed by `delayMs` or failing while `failing` is set. */
function unreliableStore(options: { delayMs?: number; failing?: boolean }) {
  const inner = createMemoryStore();
  const state = { ...options };
  const store: IdempotencyStore = {
    claim: (input) => inner.claim(input),
    release: (key, token) => inner.release(key, token),
    complete: async (input) => {
      if (state.delayMs !== undefined) await new Promise((r) => setTimeout(r, state.delayMs));
      if (state.failing) throw new Error('connection lost');
      return inner.complete(input);
    },
  };
  return { store, state };
}

// Time (the slow store, the budget, the record retries) runs on vi.useFakeTimers: nothing
// here waits real time.
afterEach(() => {
  vi.useRealTimers();
});

const request = (sid: string) => ({ headers: {}, params: { MessageSid: sid, From: '+15125550100', To: '+15125550199', Body: 'hi' } });
const twiml = '<Response><Message>Thanks!</Message></Response>';

describe('recordTimeoutMs (answer before the record is written)', () => {
  it('Twilio: a slow record does not hold the TwiML back past the budget; the duplicate still gets it replayed once recorded', async () => {
    vi.useFakeTimers();
    const { store } = unreliableStore({ delayMs: 600 });
    const { logger, lines } = recordingLogger();
    const dedup = createWebhookDedup({ store, logger });
    let runs = 0;
    let first: unknown;
    void dedup.twilio(request('SM1'), () => (runs++, twiml), { recordTimeoutMs: 100 }).then((r) => (first = r));
    await vi.advanceTimersByTimeAsync(99);
    expect(first).toBeUndefined(); // held for the budget, not less
    await vi.advanceTimersByTimeAsync(1);
    expect(first).toMatchObject({ status: 200, body: twiml, duplicate: false, recordPending: true });
    expect(lines.some((l) => String(l.msg).includes('returned before it was recorded'))).toBe(true);
    await vi.advanceTimersByTimeAsync(500); // the slow record lands at 600 ms
    const again = await dedup.twilio(request('SM1'), () => (runs++, 'second'));
    expect(again).toMatchObject({ body: twiml, duplicate: true, recordPending: false });
    expect(runs).toBe(1);
  });

  it('Twilio by default: a store that fails to record the reply still lets it out (the only copy), logged', async () => {
    const { store, state } = unreliableStore({ failing: true });
    const { logger, lines } = recordingLogger();
    vi.useFakeTimers();
    const dedup = createWebhookDedup({ store, logger, leaseMs: 300 });
    const answering = dedup.twilio(request('SM2'), () => twiml);
    await vi.advanceTimersByTimeAsync(300); // the record retries until the lease ends
    const out = await answering;
    expect(out).toMatchObject({ status: 200, body: twiml, recordPending: true });
    expect(lines.some((l) => String(l.msg).includes('returned unrecorded') || String(l.msg).includes('returned before it was recorded'))).toBe(true);
    state.failing = false;
  });

  it('Stripe keeps waiting for the record by default: a store that cannot record throws, for a 5xx and a retry', async () => {
    const { store } = unreliableStore({ failing: true });
    const { logger } = recordingLogger();
    vi.useFakeTimers();
    const dedup = createWebhookDedup({ store, logger, leaseMs: 300 });
    const failed = expect(dedup.stripe({ id: 'evt_1', type: 'invoice.paid' }, () => undefined)).rejects.toThrow();
    await vi.advanceTimersByTimeAsync(300); // the record retries until the lease ends
    await failed;
  });

  it('a handler that throws is not turned into an answer', async () => {
    const { store } = unreliableStore({});
    const dedup = createWebhookDedup({ store, logger: recordingLogger().logger });
    await expect(
      dedup.twilio(request('SM3'), () => {
        throw new Error('processing failed');
      }),
    ).rejects.toThrow('processing failed');
    // The key was released: the retry runs.
    expect((await dedup.twilio(request('SM3'), () => twiml)).body).toBe(twiml);
  });
});
