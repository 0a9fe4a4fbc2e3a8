import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprintPayload, toCanonicalJson } from './fingerprint.js';

function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((item) => shuffleKeys(item, seed));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const rotated = entries.length === 0 ? entries : [...entries.slice(seed % entries.length), ...entries.slice(0, seed % entries.length)].reverse();
  return Object.fromEntries(rotated.map(([k, v]) => [k, shuffleKeys(v, seed + 1)]));
}

describe('payload fingerprints', () => {
  it('sorts keys at every depth', () => {
    expect(toCanonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: 3 } })).toBe('{"a":{"c":3,"d":[{"y":2,"z":1}]},"b":1}');
    expect(fingerprintPayload({ to: 'a', amount: 5 })).toBe(fingerprintPayload({ amount: 5, to: 'a' }));
  });

  it('any reordering of keys gives the same fingerprint; a changed value gives another (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), (value, seed) => {
        expect(fingerprintPayload(shuffleKeys(value, seed))).toBe(fingerprintPayload(value));
        expect(fingerprintPayload({ wrapped: value, extra: 1 })).not.toBe(fingerprintPayload({ wrapped: value, extra: 2 }));
      }),
    );
  });

  it('keeps array order and value types significant', () => {
    expect(fingerprintPayload([1, 2])).not.toBe(fingerprintPayload([2, 1]));
    expect(fingerprintPayload({ a: 1 })).not.toBe(fingerprintPayload({ a: '1' }));
    expect(fingerprintPayload({ a: null })).not.toBe(fingerprintPayload({}));
    expect(fingerprintPayload({ a: undefined })).toBe(fingerprintPayload({}));
  });

  it('hashes raw bytes as they are', () => {
    expect(fingerprintPayload(Buffer.from('{"b":1,"a":2}'))).not.toBe(fingerprintPayload(Buffer.from('{"a":2,"b":1}')));
    expect(fingerprintPayload(new Uint8Array([1, 2, 3]))).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a cyclic payload instead of fingerprinting part of it', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => fingerprintPayload(cyclic)).toThrow(TypeError);
  });
});
