// Hand-written on purpose: the redaction libraries on npm (e.g. pino's redact) remove
// fields by path; what leaks here is phone numbers and tokens inside free text (error
// messages, SMS bodies, provider responses), which needs pattern scrubbing.

// International numbers written with their + and 8-15 digits, or North American ones
// written 10-11 digits long (optionally 1, then 3-3-4 with the usual separators). Not dates
// (2026-03-01), times, or long ids and epoch timestamps (12+ bare digits).
const phonePattern = /\+\d[\d\s().-]{6,18}\d|(?<![\d+])(?:1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?!\d)/g;
const emailPattern = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const tokenPatterns: RegExp[] = [
  /\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{8,}\b/g, // Stripe keys
  /\bwhsec_[A-Za-z0-9+/=]{8,}\b/g, // webhook secrets
  /\bxox[abposr]-[A-Za-z0-9-]{8,}\b/g, // Slack tokens
  /\bsk-[A-Za-z0-9_-]{16,}\b/g, // OpenAI keys
  /\bAC[0-9a-f]{32}\b/g, // Twilio account SIDs
  /\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, // authorization headers
];

/**
 * Masks a phone number, keeping the country prefix and the last two digits:
 * `+15551234567` becomes `+1********67`. Anything that is not a phone number comes
 * back masked entirely.
 *
 * @param phone - A phone number (E.164 or loosely formatted).
 * @returns The masked number.
 * @example
 * ```ts
 * import { maskPhoneNumber } from '@hardening/core';
 * maskPhoneNumber('+15551234567'); // '+1********67'
 * ```
 */
export function maskPhoneNumber(phone: string): string {
  if (String(phone).includes('*')) return String(phone); // already masked
  const digits = String(phone).replace(/\D/g, '');
  if (digits.length < 7) return '***';
  const plus = String(phone).trim().startsWith('+') ? '+' : '';
  return `${plus}${digits.slice(0, 1)}${'*'.repeat(digits.length - 3)}${digits.slice(-2)}`;
}

/**
 * Scrubs phone numbers, email addresses and well-known secret formats (Stripe, Slack,
 * OpenAI, Twilio SIDs, bearer tokens) out of free text, for logs, errors and Sentry.
 *
 * @param text - Any text.
 * @returns The text with each match replaced by a mask.
 * @example
 * ```ts
 * import { scrubText } from '@hardening/core';
 * scrubText('SMS to +15551234567 failed: Bearer abcdefghijkl');
 * // 'SMS to +1********67 failed: [redacted]'
 * ```
 */
export function scrubText(text: string): string {
  let out = String(text);
  for (const pattern of tokenPatterns) out = out.replace(pattern, '[redacted]');
  out = out.replace(emailPattern, '[email]');
  out = out.replace(phonePattern, (match) => {
    const digits = match.replace(/\D/g, '').length;
    return digits >= 8 && digits <= 15 ? maskPhoneNumber(match) : match;
  });
  return out;
}

const secretKey = /pass(word)?|secret|token|authorization|api[-_]?key|cookie|signature/i;
const phoneKey = /phone|^to$|^from$|msisdn|caller|recipient/i;

/**
 * Deep-copies a value for logging: strings are scrubbed with {@link scrubText}, fields
 * whose names look secret (`token`, `password`, `authorization`...) are replaced,
 * fields whose names look like phone numbers (`phone`, `to`, `from`) are masked.
 *
 * @param value - Any JSON-like value.
 * @param depth - How deep to go before giving up (cycles, huge objects).
 * @returns A scrubbed copy.
 * @example
 * ```ts
 * import { scrubValue } from '@hardening/core';
 * scrubValue({ to: '+15551234567', authToken: 'abc', body: 'call me at +15559876543' });
 * // { to: '+1********67', authToken: '[redacted]', body: 'call me at +1********43' }
 * ```
 */
export function scrubValue(value: unknown, depth = 8): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth <= 0) return '[truncated]';
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, depth - 1));
  if (value instanceof Error) return { name: value.name, message: scrubText(value.message) };
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (secretKey.test(key)) out[key] = '[redacted]';
    else if (phoneKey.test(key) && typeof item === 'string') out[key] = maskPhoneNumber(item);
    else out[key] = scrubValue(item, depth - 1);
  }
  return out;
}
