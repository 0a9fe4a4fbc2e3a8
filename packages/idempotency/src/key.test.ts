import { describe, expect, it } from 'vitest';
import { createIdempotencyGuard } from './guard.js';
import { assertIdempotencyKey } from './key.js';
import { createMemoryStore } from './memory-store.js';
import { InvalidIdempotencyKeyError, isInvalidIdempotencyKeyError } from './errors/invalid-idempotency-key-error.js';
import { silentLogger } from '@hardening/core';

describe('idempotency keys', () => {
  it('accepts 1 to 255 bytes, counting UTF-8 bytes rather than characters', () => {
    expect(assertIdempotencyKey('a')).toBe('a');
    expect(assertIdempotencyKey('k'.repeat(255))).toHaveLength(255);
    expect(assertIdempotencyKey('é'.repeat(127))).toHaveLength(127); // 254 bytes
    expect(() => assertIdempotencyKey('é'.repeat(128))).toThrow('got 256 bytes');
    expect(() => assertIdempotencyKey('漢'.repeat(86))).toThrow('got 258 bytes');
  });

  it.each([
    ['empty', '', 'empty', 'got an empty string'],
    ['oversized', 'x'.repeat(256), 'too-long', 'got 256 bytes'],
    ['a number', 42, 'type', 'got number'],
    ['undefined', undefined, 'type', 'got undefined'],
    ['null', null, 'type', 'got null'],
    ['an object', { id: 1 }, 'type', 'got object'],
  ])('rejects %s with a clear InvalidIdempotencyKeyError', (_label, key, reason, detail) => {
    try {
      assertIdempotencyKey(key);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidIdempotencyKeyError);
      expect(isInvalidIdempotencyKeyError(error)).toBe(true);
      expect((error as InvalidIdempotencyKeyError).reason).toBe(reason);
      expect((error as Error).message).toContain('Expected `key` to be a non-empty string of at most 255 bytes');
      expect((error as Error).message).toContain(detail);
    }
  });

  it('the guard refuses a bad key before touching the store or running fn', async () => {
    const store = createMemoryStore();
    const guard = createIdempotencyGuard({ store, logger: silentLogger });
    let ran = false;
    const fn = () => {
      ran = true;
      return Promise.resolve();
    };
    for (const key of ['', 'x'.repeat(256), 7, undefined] as unknown[]) {
      await expect(guard.run(key as string, fn)).rejects.toSatisfy(isInvalidIdempotencyKeyError);
    }
    expect(ran).toBe(false);
    expect(store.stats().size).toBe(0);
  });

  it('never echoes the key in the error (it may carry personal data)', () => {
    const secret = `+15551234567${'x'.repeat(300)}`;
    expect(() => assertIdempotencyKey(secret)).toThrow(expect.objectContaining({ message: expect.not.stringContaining('5551234567') }));
  });
});
