import { parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * Answers kept per input string, so each number is parsed once: Twilio sends the same few
 * `To` numbers (ours) and the same `From` for every message of a conversation, and
 * libphonenumber's parse was 7 % of the app's busy time on POST /sms (a CPU profile under
 * `pnpm bench:app`: picking the country among the +1 countries). Bounded (oldest out
 * first); inputs longer than any phone number are not kept.
 */
const parsed = new Map<string, string | null>();

/**
 * A North American number already in E.164 with a well-formed area code and exchange
 * (`+1 NXX NXX XXXX`, N from 2 to 9): libphonenumber's answer is the input itself (checked
 * against its parse in test/domain/phone.test.ts), so it is not asked. Its parse of a +1
 * number tries the national-number patterns of every NANP country with regular expressions
 * it builds on each call, and under `pnpm bench:app`, where each conversation starts from a
 * new phone, the parse of the first `From` was still 4.5 % of the app's busy time (about
 * 0.3 ms a parse in the app under load, 12 us alone: V8's regexp cache does not hold there).
 */
const nanpE164 = /^\+1[2-9]\d{2}[2-9]\d{6}$/;
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
  if (nanpE164.test(value)) return value;
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
