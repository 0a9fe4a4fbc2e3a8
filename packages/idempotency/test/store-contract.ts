// The contract every IdempotencyStore must meet, run against each store (memory, Redis,
// PostgreSQL through Prisma on adapter-pg and on PGlite). See IdempotencyStore's TSDoc.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdempotencyGuard, isIdempotencyInProgressError, isIdempotencyPayloadMismatchError, silentLoggerForTests } from './support/guard-helpers.js';
import type { IdempotencyStore } from '../src/index.js';

export interface ContractHarness {
  readonly store: IdempotencyStore;
  /**
   * Lets `ms` of the store's time pass: advances a fake clock for the memory store, sleeps
   * for servers (which keep time themselves).
   */
  elapse(ms: number): Promise<void>;
  /** A lease short enough to wait out in a test. */
  readonly shortMs: number;
  close(): Promise<void>;
}

export function describeStoreContract(name: string, open: () => Promise<ContractHarness>, options: { skip?: boolean } = {}): void {
  describe.skipIf(options.skip === true)(`IdempotencyStore contract: ${name}`, () => {
    let h: ContractHarness;
    let store: IdempotencyStore;
    const run = randomUUID().slice(0, 8);
    let n = 0;
    const freshKey = () => `contract:${run}:${++n}`;
    const token = () => randomUUID();
    const long = 60_000;

    beforeAll(async () => {
      h = await open();
      store = h.store;
    });
    afterAll(async () => {
      await h?.close();
    });

    it('claims a free key; a second claim sees it in progress with the first fingerprint', async () => {
      const key = freshKey();
      expect(await store.claim({ key, token: token(), fingerprint: 'fp-1', leaseMs: long })).toEqual({ status: 'claimed' });
      const second = await store.claim({ key, token: token(), fingerprint: 'fp-2', leaseMs: long });
      expect(second.status).toBe('in-progress');
      expect(second.status === 'in-progress' && second.fingerprint).toBe('fp-1');
      if (second.status === 'in-progress' && second.leaseRemainingMs !== undefined) {
        expect(second.leaseRemainingMs).toBeGreaterThan(0);
        expect(second.leaseRemainingMs).toBeLessThanOrEqual(long);
      }
    });

    it('complete by the owner stores the result and fingerprint for replay', async () => {
      const key = freshKey();
      const t = token();
      await store.claim({ key, token: t, fingerprint: 'abc', leaseMs: long });
      expect(await store.complete({ key, token: t, result: '{"v":42}', retentionMs: long })).toBe(true);
      expect(await store.claim({ key, token: token(), fingerprint: 'other', leaseMs: long })).toEqual({
        status: 'completed',
        fingerprint: 'abc',
        result: '{"v":42}',
      });
    });

    it('complete and release by a stranger change nothing', async () => {
      const key = freshKey();
      const owner = token();
      await store.claim({ key, token: owner, fingerprint: '', leaseMs: long });
      expect(await store.complete({ key, token: token(), result: 'forged', retentionMs: long })).toBe(false);
      expect(await store.release(key, token())).toBe(false);
      expect((await store.claim({ key, token: token(), fingerprint: '', leaseMs: long })).status).toBe('in-progress');
      expect(await store.complete({ key, token: owner, result: 'real', retentionMs: long })).toBe(true);
      const replay = await store.claim({ key, token: token(), fingerprint: '', leaseMs: long });
      expect(replay.status === 'completed' && replay.result).toBe('real');
    });

    it('release by the owner frees the key; a completed record cannot be released or completed again', async () => {
      const key = freshKey();
      const first = token();
      await store.claim({ key, token: first, fingerprint: '', leaseMs: long });
      expect(await store.release(key, first)).toBe(true);
      expect(await store.release(key, first)).toBe(false);
      const second = token();
      expect(await store.claim({ key, token: second, fingerprint: '', leaseMs: long })).toEqual({ status: 'claimed' });
      expect(await store.complete({ key, token: second, result: 'once', retentionMs: long })).toBe(true);
      expect(await store.complete({ key, token: second, result: 'twice', retentionMs: long })).toBe(false);
      expect(await store.release(key, second)).toBe(false);
      const replay = await store.claim({ key, token: token(), fingerprint: '', leaseMs: long });
      expect(replay.status === 'completed' && replay.result).toBe('once');
    });

    it('an expired lease frees the key, and the old holder can neither complete nor release it (fencing)', async () => {
      const key = freshKey();
      const crashed = token();
      await store.claim({ key, token: crashed, fingerprint: '', leaseMs: h.shortMs });
      await h.elapse(h.shortMs + 150);
      const next = token();
      expect(await store.claim({ key, token: next, fingerprint: 'new', leaseMs: long })).toEqual({ status: 'claimed' });
      expect(await store.complete({ key, token: crashed, result: 'late', retentionMs: long })).toBe(false);
      expect(await store.release(key, crashed)).toBe(false);
      expect(await store.complete({ key, token: next, result: 'fresh', retentionMs: long })).toBe(true);
      const replay = await store.claim({ key, token: token(), fingerprint: 'new', leaseMs: long });
      expect(replay).toEqual({ status: 'completed', fingerprint: 'new', result: 'fresh' });
    });

    it('a completed record is kept for its retention, then the key is free again', async () => {
      const key = freshKey();
      const t = token();
      await store.claim({ key, token: t, fingerprint: '', leaseMs: long });
      await store.complete({ key, token: t, result: 'r', retentionMs: h.shortMs });
      expect((await store.claim({ key, token: token(), fingerprint: '', leaseMs: long })).status).toBe('completed');
      await h.elapse(h.shortMs + 150);
      expect(await store.claim({ key, token: token(), fingerprint: '', leaseMs: long })).toEqual({ status: 'claimed' });
    });

    it('of 50 concurrent claims of one key exactly one wins', async () => {
      const key = freshKey();
      const outcomes = await Promise.all(Array.from({ length: 50 }, () => store.claim({ key, token: token(), fingerprint: 'same', leaseMs: long })));
      expect(outcomes.filter((o) => o.status === 'claimed')).toHaveLength(1);
      expect(outcomes.filter((o) => o.status === 'in-progress')).toHaveLength(49);
    });

    it('keeps any key, fingerprint and result byte for byte (unicode, braces, newlines, 100 kB)', async () => {
      const key = `{tag}}{ é 漢字 \n ${'k'.repeat(200)}`;
      const result = `line1\nline2\r\n${'é漢'.repeat(20_000)}end`;
      const fingerprint = 'fp with spaces {} é';
      const t = token();
      expect(await store.claim({ key, token: t, fingerprint, leaseMs: long })).toEqual({ status: 'claimed' });
      expect(await store.complete({ key, token: t, result, retentionMs: long })).toBe(true);
      expect(await store.claim({ key, token: token(), fingerprint, leaseMs: long })).toEqual({ status: 'completed', fingerprint, result });
      expect((await store.claim({ key: `${key}x`, token: token(), fingerprint, leaseMs: long })).status).toBe('claimed');
    });

    it('cleanup (where the store has one) deletes expired records only', async () => {
      if (store.cleanup === undefined) return;
      const expired = freshKey();
      const live = freshKey();
      const t = token();
      await store.claim({ key: expired, token: t, fingerprint: '', leaseMs: long });
      await store.complete({ key: expired, token: t, result: 'old', retentionMs: h.shortMs });
      await store.claim({ key: live, token: token(), fingerprint: '', leaseMs: long });
      await h.elapse(h.shortMs + 150);
      expect(await store.cleanup()).toBeGreaterThanOrEqual(1);
      expect((await store.claim({ key: live, token: token(), fingerprint: '', leaseMs: long })).status).toBe('in-progress');
      expect((await store.claim({ key: expired, token: token(), fingerprint: '', leaseMs: long })).status).toBe('claimed');
    });

    describe('a guard on this store', () => {
      it('runs once, replays the result, releases on failure and rejects a reused key with another payload', async () => {
        const guard = createIdempotencyGuard({ store, logger: silentLoggerForTests, namespace: `g:${run}:` });
        let runs = 0;
        await expect(
          guard.run(
            'evt-fail',
            () => {
              runs++;
              return Promise.reject(new Error('provider down'));
            },
            { payload: { a: 1 } },
          ),
        ).rejects.toThrow('provider down');
        expect(await guard.run('evt-fail', () => Promise.resolve(++runs), { payload: { a: 1 } })).toBe(2);
        expect(await guard.execute('evt-fail', () => Promise.resolve(++runs), { payload: { a: 1 } })).toEqual({ status: 'replayed', value: 2, stored: true });
        await expect(guard.run('evt-fail', () => Promise.resolve(++runs), { payload: { a: 2 } })).rejects.toSatisfy(isIdempotencyPayloadMismatchError);
        expect(runs).toBe(2);
      });

      it('a concurrent duplicate gets IdempotencyInProgressError, or the first result when it waits', async () => {
        const guard = createIdempotencyGuard({ store, logger: silentLoggerForTests, namespace: `g2:${run}:` });
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const first = guard.run('evt', async () => {
          await gate;
          return 'first';
        });
        await new Promise((r) => setTimeout(r, 50));
        await expect(guard.run('evt', () => Promise.resolve('second'))).rejects.toSatisfy(isIdempotencyInProgressError);
        const waiting = guard.run('evt', () => Promise.resolve('second'), { onInProgress: 'wait', waitTimeoutMs: 10_000 });
        setTimeout(release, 100);
        expect(await first).toBe('first');
        expect(await waiting).toBe('first');
      });
    });
  });
}
