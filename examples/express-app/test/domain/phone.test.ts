// toE164 keeps its answers per input string (parsed once): a kept answer is the answer a
// fresh parse gives, for numbers and non-numbers alike, and the store stays bounded.
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { describe, expect, it } from 'vitest';
import { toE164 } from '../../src/domain/phone.js';

/** libphonenumber's own answer, as toE164 asks it. */
function parsed(value: string): string | undefined {
  const number = parsePhoneNumberFromString(value.trim(), 'US');
  return number?.isPossible() ? number.number : undefined;
}

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

  it('answers +1 numbers in E.164 as libphonenumber does, those it does not ask it about included', () => {
    // Every first digit of the area code and of the exchange (0 and 1 are not NANP's), random rest.
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const digits = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 10)).join('');
    const inputs: string[] = [];
    for (let a = 0; a <= 9; a++) for (let e = 0; e <= 9; e++) for (let k = 0; k < 40; k++) inputs.push(`+1${a}${digits(2)}${e}${digits(6)}`);
    inputs.push('+1212555012', '+121255501234', '+1 212 555 0123', '+12125550123 ', '+2125550123');
    for (const input of inputs) expect([input, toE164(input)]).toEqual([input, parsed(input)]);
  });
});
