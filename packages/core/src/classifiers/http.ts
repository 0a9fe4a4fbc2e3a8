import { causeChain, field } from './error-fields.js';

/** Statuses worth retrying: timeouts, too early, rate limits, and gateway/overload 5xx. */
const transientStatuses = new Set([408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529]);

/**
 * The HTTP status an error carries, whichever SDK threw it: `status` (Twilio, OpenAI,
 * Stripe's `statusCode`), `statusCode`, `response.status` (axios, ky, our own), or
 * `$metadata.httpStatusCode` (AWS).
 *
 * @param error - Anything caught.
 * @returns The status, or `undefined`.
 * @example
 * ```ts
 * import { httpStatusOf } from '@hardening/core';
 * httpStatusOf({ status: 503 }); // 503
 * ```
 */
export function httpStatusOf(error: unknown): number | undefined {
  for (const link of causeChain(error, 3)) {
    const candidates = [
      field(link, 'status'),
      field(link, 'statusCode'),
      field(field(link, 'response'), 'status'),
      field(field(link, 'response'), 'statusCode'),
      field(field(link, '$metadata'), 'httpStatusCode'),
    ];
    for (const candidate of candidates) {
      if (typeof candidate === 'number' && candidate >= 100 && candidate <= 599) return candidate;
    }
  }
  return undefined;
}

/**
 * True for errors carrying an HTTP status worth retrying: 408, 425, 429, 500, 502, 503,
 * 504 and the 52x/529 overload statuses of CDNs and AI providers, or no status but a
 * `Retry-After` (Slack's rate-limit error). Other 4xx are the caller's mistake and
 * 501/505 will not change on retry.
 *
 * @param error - Anything caught.
 * @returns Whether the status is transient.
 * @example
 * ```ts
 * import { isTransientHttpError } from '@hardening/core';
 * isTransientHttpError({ status: 429 }); // true
 * isTransientHttpError({ status: 400 }); // false
 * ```
 */
export function isTransientHttpError(error: unknown): boolean {
  const status = httpStatusOf(error);
  if (status !== undefined) return transientStatuses.has(status);
  // No status, but the server said when to come back (Slack's rate-limit error).
  return retryAfterMs(error) !== undefined;
}

/**
 * For the `isFailureResult` option of `safeCall`: true for a `fetch` `Response` (or any
 * result with a numeric `status`) whose status is 5xx, 408, 425 or 429. Such a result is
 * then retried (honouring its `Retry-After`) and counted by the breaker like an error; other
 * statuses, 4xx included, are returned to the caller as they are.
 *
 * @param result - What the work returned.
 * @returns Whether the result is a failed HTTP answer.
 * @example
 * ```ts
 * import { safeCall, isFailedResponse } from '@hardening/core';
 * const res = await safeCall('calendar', (signal) => fetch('http://127.0.0.1:9/', { signal }), { isFailureResult: isFailedResponse });
 * ```
 */
export function isFailedResponse(result: unknown): boolean {
  const status = field(result, 'status');
  return typeof status === 'number' && (status >= 500 || status === 408 || status === 425 || status === 429);
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const get = field(headers, 'get');
  if (typeof get === 'function') {
    const value = (get as (n: string) => unknown).call(headers, name);
    return typeof value === 'string' ? value : undefined;
  }
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() === name) {
      if (typeof value === 'string') return value;
      if (typeof value === 'number') return String(value);
      if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
    }
  }
  return undefined;
}

/**
 * Parses a `Retry-After` value: delay-seconds or an HTTP date.
 *
 * @param value - The header value.
 * @param now - Current time, epoch ms (for dates).
 * @returns Milliseconds to wait, or `undefined` when unparseable.
 * @example
 * ```ts
 * import { parseRetryAfter } from '@hardening/core';
 * parseRetryAfter('120'); // 120000
 * ```
 */
export function parseRetryAfter(value: string, now = Date.now()): number | undefined {
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * How long the server asked us to wait, from an error: a `Retry-After` header on
 * `error.headers` or `error.response.headers` (plain object or `Headers`), or a
 * `retryAfter` field in seconds (Slack's rate-limit error).
 *
 * @param error - Anything caught.
 * @param now - Current time, epoch ms.
 * @returns Milliseconds to wait, or `undefined`.
 * @example
 * ```ts
 * import { retryAfterMs } from '@hardening/core';
 * retryAfterMs({ status: 429, headers: { 'retry-after': '2' } }); // 2000
 * ```
 */
export function retryAfterMs(error: unknown, now = Date.now()): number | undefined {
  for (const link of causeChain(error, 3)) {
    const seconds = field(link, 'retryAfter');
    if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
    for (const headers of [field(link, 'headers'), field(field(link, 'response'), 'headers')]) {
      const value = headerValue(headers, 'retry-after');
      if (value !== undefined) {
        const parsed = parseRetryAfter(value, now);
        if (parsed !== undefined) return parsed;
      }
    }
  }
  return undefined;
}
