import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { installOtel } from '@hardening/test-support';
import type { TestOtel } from '@hardening/test-support';
import { trace } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIdempotencyGuard } from './guard.js';
import { createMemoryStore } from './memory-store.js';
import { idempotencyChannels } from './telemetry.js';

let otel: TestOtel;
beforeEach(() => {
  otel = installOtel();
});
afterEach(async () => {
  await otel.uninstall();
});

describe('idempotency guard telemetry (real OTel SDK)', () => {
  it('records executed, replayed, in progress and mismatch as span attributes and a counter', async () => {
    const guard = createIdempotencyGuard({ store: createMemoryStore(), namespace: 'tel:', onInProgress: 'error' });
    await guard.run(
      'k1',
      () => {
        trace.getTracer('test').startSpan('send').end();
        return Promise.resolve(1);
      },
      { payload: { a: 1 } },
    );
    await guard.run('k1', () => Promise.resolve(2), { payload: { a: 1 } });
    await expect(guard.run('k1', () => Promise.resolve(3), { payload: { a: 2 } })).rejects.toThrow();
    let release!: () => void;
    const slow = guard.run('k2', () => new Promise<number>((r) => (release = () => r(4))));
    await expect(guard.run('k2', () => Promise.resolve(5))).rejects.toThrow();
    release();
    await slow;

    const spans = otel.spans().filter((s) => s.name === 'idempotency tel:');
    expect(spans.map((s) => s.attributes['hardening.idempotency.outcome'])).toEqual(['executed', 'replayed', 'mismatch', 'in_progress', 'executed']);
    expect(spans.map((s) => s.status.code)).toEqual([0, 0, 0, 0, 0]);
    const [send] = otel.spans().filter((s) => s.name === 'send');
    expect(send!.parentSpanContext?.spanId).toBe(spans[0]!.spanContext().spanId);
    const points = await otel.points('hardening.idempotency.outcomes', { 'hardening.idempotency.namespace': 'tel:' });
    expect(Object.fromEntries(points.map((p) => [p.attributes['hardening.idempotency.outcome'], p.value]))).toEqual({
      executed: 2,
      replayed: 1,
      mismatch: 1,
      in_progress: 1,
    });
  });

  it('marks a failing function as an ERROR span with error.type', async () => {
    const guard = createIdempotencyGuard({ store: createMemoryStore(), namespace: 'fail:' });
    await expect(
      guard.run('k', () => {
        return Promise.reject(new RangeError('nope'));
      }),
    ).rejects.toThrow('nope');
    const [span] = otel.spans().filter((s) => s.name === 'idempotency fail:');
    expect(span!.attributes).toMatchObject({ 'hardening.idempotency.outcome': 'failed', 'error.type': 'RangeError' });
    expect(span!.status.code).toBe(2);
  });

  it('publishes outcomes on diagnostics_channel without a provider, never the key', async () => {
    await otel.uninstall();
    const seen: unknown[] = [];
    const listener = (m: unknown) => seen.push(m);
    subscribe(idempotencyChannels.outcome, listener);
    try {
      const guard = createIdempotencyGuard({ store: createMemoryStore(), namespace: 'dc:' });
      await guard.run('secret-key', () => Promise.resolve(1));
      await guard.run('secret-key', () => Promise.resolve(1));
    } finally {
      unsubscribe(idempotencyChannels.outcome, listener);
      otel = installOtel();
    }
    expect(seen).toEqual([
      { namespace: 'dc:', outcome: 'executed', errorType: undefined },
      { namespace: 'dc:', outcome: 'replayed', errorType: undefined },
    ]);
    expect(JSON.stringify(seen)).not.toContain('secret-key');
  });
});
