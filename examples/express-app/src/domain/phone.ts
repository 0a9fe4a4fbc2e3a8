import { parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * Answers kept per input string, so each number is parsed once: Twilio sends the same few
 * `To` numbers (ours) and the same `From` for every message of a conversation, and
 * libphonenumber's parse was 7 % of the app's busy time on POST /sms (a CPU profile under
 * `pnpm bench:app`: picking the country among the +1 countries). Bounded (oldest out
 * first); inputs longer than any phone number are not kept.
 */
const parsed = new Map<string, string | null>();
const maxKept = 4096;
const maxKeptLength = 32;

/**
 * A phone number in E.164 (`+15551234567`), or undefined when `value` cannot be one.
 * Numbers without a country code are read as North American. "Possible" (right length for
 * its country) rather than "valid" (an assigned range): the carrier is the judge of the
 * rest, and fictional 555 numbers must work in tests and demos.
 *
 * @example
 * ```ts
 * toE164('(555) 123-4567'); // '+15551234567'
 * toE164('12'); // undefined
 * ```
 */
export function toE164(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const known = parsed.get(value);
  if (known !== undefined) return known ?? undefined;
  const e164 = parse(value);
  if (value.length <= maxKeptLength) {
    if (parsed.size >= maxKept) parsed.delete(parsed.keys().next().value!);
    parsed.set(value, e164 ?? null);
  }
  return e164;
}

function parse(value: string): string | undefined {
  if (value.trim() === '') return undefined;
  const number = parsePhoneNumberFromString(value.trim(), 'US');
  return number?.isPossible() ? number.number : undefined;
}
