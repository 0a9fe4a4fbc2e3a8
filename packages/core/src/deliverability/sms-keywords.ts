/**
 * What an inbound SMS asks of the sender it was sent to, by Twilio's default opt-out
 * keywords (https://help.twilio.com/articles/223134027): `opt_out` (STOP, STOPALL,
 * UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT), `opt_in` (START, YES, UNSTOP) or `help`
 * (HELP, INFO).
 */
export type SmsKeyword = 'opt_out' | 'opt_in' | 'help';

const keywords: ReadonlyMap<string, SmsKeyword> = new Map<string, SmsKeyword>([
  ...['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'].map((k) => [k, 'opt_out'] as const),
  ...['START', 'YES', 'UNSTOP'].map((k) => [k, 'opt_in'] as const),
  ...['HELP', 'INFO'].map((k) => [k, 'help'] as const),
]);

/**
 * The opt-out keyword an SMS body is, if it is one. Twilio matches the whole body, trimmed
 * and case-insensitive ("stop", " Stop. " and "STOP!" count; "please stop texting me"
 * does not): a keyword inside a sentence is a conversation, and treating it as an opt-out
 * would silence a customer who asked a question. Trailing punctuation is ignored, as
 * handsets add it.
 *
 * `YES` is an opt-in keyword for Twilio; an app that also uses YES in a conversation (a
 * confirmation) should apply the opt-in only when the pair is opted out.
 *
 * @param body - The inbound SMS body.
 * @returns The keyword's meaning, or `undefined` for any other text.
 * @example
 * ```ts
 * import { classifySmsKeyword } from '@hardening/core';
 * classifySmsKeyword(' Stop. '); // 'opt_out'
 * classifySmsKeyword('unstop'); // 'opt_in'
 * classifySmsKeyword('stop calling after 6pm'); // undefined
 * ```
 */
export function classifySmsKeyword(body: string): SmsKeyword | undefined {
  if (typeof body !== 'string' || body.length > 40) return undefined;
  const word = body
    .trim()
    .replace(/[.!?\s]+$/u, '')
    .toUpperCase();
  return keywords.get(word);
}
