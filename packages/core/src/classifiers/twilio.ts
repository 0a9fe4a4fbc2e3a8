import type { FailureKind } from './classify.js';
import { causeChain, field } from './error-fields.js';
import type { TwilioErrorKind, TwilioErrorScope } from './twilio-error-codes.js';
import { twilioErrorCodes, twilioErrorSource } from './twilio-error-codes.js';

export type { TwilioErrorKind, TwilioErrorScope } from './twilio-error-codes.js';

/**
 * What a Twilio error code means, from Twilio's published error dictionary.
 *
 * | scope / kind | example codes | `failureKind` (safeCall) |
 * | --- | --- | --- |
 * | recipient / terminal | 21211, 21610, 21614, 30005, 30006 | `caller`: not retried, breaker untouched |
 * | recipient / transient | 30003, 30008 | `caller-transient`: retried (bounded), breaker untouched |
 * | message / terminal | 21602, 21617 | `caller` |
 * | sender / systemic | 30007, 30034, 30032, 21408 | `failure`: not retried, counted by the breaker |
 * | account / systemic | 20003 | `failure` |
 * | account / transient | 20429 | `transient`: retried with backoff, counted |
 * | unknown | a code not in the table, or no code | `undefined`: decided by the HTTP status |
 *
 * @example
 * ```ts
 * import { classifyTwilioError, type TwilioErrorClass } from '@hardening/core';
 * const c: TwilioErrorClass = classifyTwilioError('30034');
 * if (c.scope === 'sender' && c.kind === 'systemic') console.log(`halt this sender: ${c.reason} (${c.source})`);
 * ```
 */
export interface TwilioErrorClass {
  /** The Twilio error code, or `undefined` when none was found. */
  readonly code: number | undefined;
  /** Who the error is about; `unknown` when the code is not in the table (or absent). */
  readonly scope: TwilioErrorScope;
  /** What it means for the next send (`terminal` when the scope is `unknown`: nothing known, do not resend blindly). */
  readonly kind: TwilioErrorKind;
  /** A short explanation, safe to log (no phone number, no message body). */
  readonly reason: string;
  /** The page of Twilio's error dictionary for the code, or `undefined` without a code. */
  readonly source: string | undefined;
  /**
   * For transient codes of one recipient, the attempts in all one message deserves (the
   * first included); a scheduler that resends on a later status callback stops here.
   * `undefined` for every other class.
   */
  readonly maxAttempts: number | undefined;
  /**
   * What `classifyError` (and so `safeCall`'s retry and breaker) makes of it, or
   * `undefined` for an unknown code, which is left to the HTTP status.
   */
  readonly failureKind: FailureKind | undefined;
}

const failureKinds: Record<Exclude<TwilioErrorScope, 'unknown'>, Record<TwilioErrorKind, FailureKind>> = {
  recipient: { terminal: 'caller', transient: 'caller-transient', systemic: 'failure' },
  message: { terminal: 'caller', transient: 'caller-transient', systemic: 'failure' },
  sender: { terminal: 'failure', transient: 'transient', systemic: 'failure' },
  account: { terminal: 'failure', transient: 'transient', systemic: 'failure' },
};

const noCode: TwilioErrorClass = Object.freeze({
  code: undefined,
  scope: 'unknown',
  kind: 'terminal',
  reason: 'no Twilio error code',
  source: undefined,
  maxAttempts: undefined,
  failureKind: undefined,
});

const classes = new Map<number, TwilioErrorClass>();
for (const [code, entry] of twilioErrorCodes) {
  classes.set(
    code,
    Object.freeze({
      code,
      scope: entry.scope,
      kind: entry.kind,
      reason: entry.reason,
      source: twilioErrorSource(code),
      maxAttempts: entry.maxAttempts,
      failureKind: failureKinds[entry.scope][entry.kind],
    }),
  );
}

/** Twilio codes are five digits; anything else is not one (a SQLSTATE is a string, a Prisma code starts with P). */
const asTwilioCode = (value: unknown): number | undefined => {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 10_000 && value <= 99_999 ? value : undefined;
  if (typeof value === 'string' && /^\s*\d{5}\s*$/.test(value)) return Number(value);
  return undefined;
};

/**
 * The Twilio error code in `errorOrCode`: the number itself, a numeric string (a status
 * callback's `ErrorCode`), or the numeric `code` of an error or of its `cause` chain (the
 * `twilio` SDK's `RestException`). String codes on errors are not read: they are other
 * systems' codes (SQLSTATE `23505`, Node's `ECONNRESET`).
 *
 * @param errorOrCode - A code or anything caught.
 * @returns The code, or `undefined`.
 */
export function twilioErrorCodeOf(errorOrCode: unknown): number | undefined {
  if (typeof errorOrCode === 'number' || typeof errorOrCode === 'string') return asTwilioCode(errorOrCode);
  for (const link of causeChain(errorOrCode)) {
    const code = field(link, 'code');
    if (typeof code === 'number') return asTwilioCode(code);
  }
  return undefined;
}

/**
 * Classifies a Twilio error by its code: who it is about (`recipient`, `message`, `sender`,
 * `account`) and whether the next send can succeed (`terminal`, `transient`, `systemic`),
 * with the reason and the documentation page it comes from. Accepts what the `twilio` SDK
 * throws (`RestException` with `.code` and `.status`, also inside a `cause`), a status
 * callback's `ErrorCode` string, or a bare number. Never throws: anything without a code,
 * or with a code not in the table, is scope `unknown`.
 *
 * @param errorOrCode - A `RestException`, an `ErrorCode` string such as `'30007'`, or a number.
 * @returns The code's {@link TwilioErrorClass} (frozen, shared).
 * @example
 * ```ts
 * import { classifyTwilioError } from '@hardening/core';
 * classifyTwilioError('30003'); // { scope: 'recipient', kind: 'transient', maxAttempts: 2, failureKind: 'caller-transient', ... }
 * classifyTwilioError({ status: 400, code: 21610 }).scope; // 'recipient': unsubscribed, do not send again
 * classifyTwilioError(30034).kind; // 'systemic': halt the sender until its campaign is registered
 * ```
 */
export function classifyTwilioError(errorOrCode: unknown): TwilioErrorClass {
  const code = twilioErrorCodeOf(errorOrCode);
  if (code === undefined) return noCode;
  return (
    classes.get(code) ??
    Object.freeze({
      code,
      scope: 'unknown',
      kind: 'terminal',
      reason: `Twilio error ${code} is not in the classifier's table`,
      source: twilioErrorSource(code),
      maxAttempts: undefined,
      failureKind: undefined,
    })
  );
}
