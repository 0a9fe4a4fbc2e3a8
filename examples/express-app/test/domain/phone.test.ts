// toE164 keeps its answers per input string (parsed once): a kept answer is the answer a
// fresh parse gives, for numbers and non-numbers alike, and the store stays bounded.
import { describe, expect, it } from 'vitest';
import { toE164 } from '../../src/domain/phone.js';

describe('toE164', () => {
  it('answers the same the first time and when the answer is kept', () => {
    const inputs = ['+15551234567', '(555) 123-4567', '5551234567', '+442071838750', '12', '', '   ', 'not a phone', '+1555123456789012'];
    const first = inputs.map(toE164);
    expect(first).toEqual(['+15551234567', '+15551234567', '+15551234567', '+442071838750', undefined, undefined, undefined, undefined, undefined]);
    expect(inputs.map(toE164)).toEqual(first);
    expect(toE164(undefined)).toBeUndefined();
    expect(toE164(15551234567)).toBeUndefined();
  });

  it('stays right past its bound (the oldest answers go, and are parsed again)', () => {
    const numbers = Array.from({ length: 5000 }, (_, i) => `+1212555${String(i).padStart(4, '0')}`);
    for (const n of numbers) expect(toE164(n)).toBe(n);
    expect(toE164(numbers[0])).toBe(numbers[0]);
    expect(toE164(`+1 212 555 ${'0'.repeat(40)}`)).toBeUndefined();
  });
});
