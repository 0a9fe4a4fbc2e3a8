import { parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * A phone number in E.164 (`+15551234567`), or undefined when `value` cannot be one.
 * Numbers without a country code are read as North American. "Possible" (right length for
 * its country) rather than "valid" (an assigned range): the carrier is the judge of the
 * rest, and fictional 555 numbers must work in tests and demos.
 */
export function toE164(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const parsed = parsePhoneNumberFromString(value.trim(), 'US');
  return parsed?.isPossible() ? parsed.number : undefined;
}
