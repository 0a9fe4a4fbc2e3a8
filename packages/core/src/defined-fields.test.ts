import { describe, expect, it } from 'vitest';
import { definedFields } from './defined-fields.js';

describe('definedFields', () => {
  it('drops fields whose value is undefined and keeps every other value, falsy ones included', () => {
    expect(definedFields({ a: undefined, b: 0, c: '', d: null, e: false, f: 1 })).toEqual({ b: 0, c: '', d: null, e: false, f: 1 });
    expect(Object.keys(definedFields({ a: undefined }))).toEqual([]);
  });

  it('lets a default spread under it stay', () => {
    expect({ ...{ timeoutMs: 5000, attempts: 3 }, ...definedFields({ timeoutMs: undefined, attempts: 5 }) }).toEqual({ timeoutMs: 5000, attempts: 5 });
  });
});
