import { maskPhoneNumber } from '@hardening/core';

const e164 = /^\+[1-9]\d{6,14}$/;
const alphanumericSender = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;

/**
 * Parses on-call numbers: an array, or one string separated by commas, semicolons or
 * spaces (as in `ALERT_SMS_TO=+15551234567,+15557654321`). Every entry must be E.164
 * (`+` then 7 to 15 digits, no spaces). Duplicates are dropped.
 *
 * @param value - The numbers.
 * @param field - The option's name, for the error.
 * @returns The numbers, in order.
 * @throws TypeError naming the bad entry (masked) when one is not E.164, or when none is given.
 * @example
 * ```ts
 * import { parseOnCallNumbers } from '@hardening/alerting';
 * parseOnCallNumbers('+15551234567, +447911123456'); // ['+15551234567', '+447911123456']
 * ```
 */
export function parseOnCallNumbers(value: unknown, field = 'to'): string[] {
  const entries =
    typeof value === 'string'
      ? value.split(/[,;\s]+/).filter((s) => s !== '')
      : Array.isArray(value)
        ? value.map((v: unknown) => (typeof v === 'string' ? v.trim() : v))
        : undefined;
  if (entries === undefined || entries.length === 0) {
    throw new TypeError(`Expected \`${field}\` to be one or more E.164 phone numbers (like +15551234567).`);
  }
  const out: string[] = [];
  entries.forEach((entry, index) => {
    if (typeof entry !== 'string' || !e164.test(entry)) {
      const shown = typeof entry === 'string' ? maskPhoneNumber(entry) : typeof entry;
      throw new TypeError(
        `Expected \`${field}\` to contain only E.164 phone numbers (+ and 7-15 digits, like +15551234567); entry ${index + 1} is not (${shown}).`,
      );
    }
    if (!out.includes(entry)) out.push(entry);
  });
  return out;
}

/**
 * Checks a sender: an E.164 number or an alphanumeric sender id (1-11 letters, digits or
 * spaces, at least one letter).
 *
 * @param value - The sender.
 * @param field - The option's name, for the error.
 * @returns The sender.
 * @throws TypeError when it is neither.
 */
export function checkSender(value: unknown, field = 'from'): string {
  if (typeof value === 'string' && (e164.test(value) || alphanumericSender.test(value))) return value;
  const shown = typeof value === 'string' ? maskPhoneNumber(value) : typeof value;
  throw new TypeError(`Expected \`${field}\` to be an E.164 number (like +15551234567) or an alphanumeric sender id, got ${shown}.`);
}
