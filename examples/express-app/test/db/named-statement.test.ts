// Named parameters numbered for node-postgres' prepared statements (src/db/named-statement.ts).
import { describe, expect, it } from 'vitest';
import { namedStatement } from '../../src/db/named-statement.js';

describe('namedStatement', () => {
  it('numbers the parameters in the order of their first use, a repeated one once, and sends only those the text uses', () => {
    const text = 'SELECT $b, $a, $b::text WHERE $c_1 IS NULL';
    expect(namedStatement('t_order', text, { a: 1, b: 2, c_1: null, unused: 4 })).toEqual({
      name: 't_order',
      text: 'SELECT $1, $2, $1::text WHERE $3 IS NULL',
      values: [2, 1, null],
    });
    // The numbering is kept per name; the values follow each call.
    expect(namedStatement('t_order', text, { a: 'x', b: 'y', c_1: 'z' }).values).toEqual(['y', 'x', 'z']);
  });

  it('refuses a parameter it has no value for, and a name reused for another text', () => {
    expect(() => namedStatement('t_missing', 'SELECT $a, $b', { a: 1 })).toThrow(new TypeError('Expected a value for $b of statement t_missing.'));
    namedStatement('t_reused', 'SELECT $a', { a: 1 });
    expect(() => namedStatement('t_reused', 'SELECT $a + 1', { a: 1 })).toThrow(new TypeError('Expected statement t_reused to keep its text.'));
  });

  it('takes an undefined value it was given (the driver sends it as NULL), and no inherited key', () => {
    expect(namedStatement('t_undefined', 'SELECT $a', { a: undefined }).values).toEqual([undefined]);
    expect(() => namedStatement('t_inherited', 'SELECT $toString', {})).toThrow(TypeError);
  });
});
