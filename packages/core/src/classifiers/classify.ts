import { causeChain, field } from './error-fields.js';
import { httpStatusOf } from './http.js';
import { isTransientError } from './transient.js';
import { classifyTwilioError } from './twilio.js';

/**
 * What a failure says, which decides both what `safeCall` retries and what its breaker counts:
 *
 * | kind | meaning | retried | counted by the breaker |
 * | --- | --- | --- | --- |
 * | `transient` | the dependency is struggling now; a retry may succeed | yes | yes |
 * | `caller` | the request itself is wrong (bad input, unknown recipient) | no | no (`recordIgnored`) |
 * | `caller-transient` | the request's target is out of reach for now (a handset switched off); the dependency is healthy | yes, within `attempts` | no (`recordIgnored`) |
 * | `failure` | anything else: the dependency failed in a way a retry will not fix, or a bug | no | yes |
 *
 * @example
 * ```ts
 * import { classifyError, type FailureKind } from '@hardening/core';
 * // Quota errors are the caller's: neither retried nor counted by the breaker.
 * const classify = (error: unknown): FailureKind => ((error as { code?: string }).code === 'QUOTA' ? 'caller' : classifyError(error));
 * ```
 */
export type FailureKind = 'transient' | 'caller' | 'caller-transient' | 'failure';

/**
 * Prisma codes that blame the query or its data (P2xxx request errors), except the two that
 * are load, not data: P2024 (pool timeout) and P2034 (write conflict), which are transient.
 */
const isPrismaCallerCode = (code: string): boolean => /^P20\d\d$/.test(code) && code !== 'P2024' && code !== 'P2034';

/** Error names validation libraries give their errors (zod, valibot, yup, joi, class-validator, ajv). */
const validationNames = new Set(['ZodError', 'ValiError', 'ValidationError', 'ValidatorError']);

/**
 * True when the error blames the request rather than the dependency: a Twilio error code
 * that {@link classifyTwilioError} puts on the recipient or the message (21211 invalid `To`
 * number, 21610 recipient unsubscribed, 30003 handset unreachable; not 20003, 21408 or
 * 30007, which blame the account or the sender even though Twilio answers them with a 4xx),
 * an HTTP 4xx other than 408, 425 and 429 (on any SDK's error, see `httpStatusOf`), a
 * validation library's error
 * (`ZodError`, `ValiError`, `ValidationError`), a PostgreSQL data or integrity error (SQLSTATE
 * classes 22 and 23, such as a unique violation), or a Prisma request error (P2000-P2037 but
 * P2024 and P2034).
 *
 * @param error - Anything caught.
 * @returns Whether the caller's request is at fault.
 * @example
 * ```ts
 * import { isCallerError } from '@hardening/core';
 * isCallerError({ status: 400, code: 21211 }); // true: invalid phone number
 * isCallerError({ status: 429 }); // false: rate limited, worth a retry
 * ```
 */
export function isCallerError(error: unknown): boolean {
  const twilio = classifyTwilioError(error).failureKind;
  if (twilio !== undefined) return twilio === 'caller' || twilio === 'caller-transient';
  const status = httpStatusOf(error);
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 425 && status !== 429) return true;
  for (const link of causeChain(error)) {
    const code = field(link, 'code');
    if (typeof code === 'string' && isPrismaCallerCode(code)) return true;
    for (const sqlState of [code, field(link, 'originalCode')]) {
      if (typeof sqlState === 'string' && /^2[23][0-9A-Z]{3}$/.test(sqlState)) return true;
    }
    const name = field(link, 'name');
    if (typeof name === 'string' && validationNames.has(name)) return true;
  }
  return false;
}

/**
 * The default classifier of `safeCall` (option `classify`). A Twilio error code in the
 * table of {@link classifyTwilioError} decides first: recipient and message errors are
 * `caller` (30003 and 30008, a handset out of reach, `caller-transient`), sender and account
 * errors `failure` (30007 carrier filtering, 30034 unregistered campaign, 20003 bad
 * credentials: the sender is sick, so the breaker counts them), 20429 `transient`.
 * Otherwise: `transient` for our own attempt timeouts, network failures, HTTP 408/425/429/5xx gateway and overload statuses and
 * transient PostgreSQL, Prisma and Redis errors; `caller` for what {@link isCallerError}
 * recognises; `failure` for everything else (a 501, a bug). Transient is checked first, so
 * a 429 is never a caller error.
 *
 * @param error - Anything caught.
 * @returns The error's {@link FailureKind}.
 * @example
 * ```ts
 * import { classifyError } from '@hardening/core';
 * classifyError({ status: 503 }); // 'transient': retried, counted by the breaker
 * classifyError({ status: 400, code: 21211 }); // 'caller': neither retried nor counted
 * classifyError({ status: 400, code: 30034 }); // 'failure': the sender's campaign is unregistered; counted
 * classifyError(new TypeError('x is undefined')); // 'failure': not retried, counted
 * ```
 */
export function classifyError(error: unknown): FailureKind {
  const twilio = classifyTwilioError(error).failureKind;
  if (twilio !== undefined) return twilio;
  if (isTransientError(error)) return 'transient';
  return isCallerError(error) ? 'caller' : 'failure';
}
