import isNetworkFailure from 'is-network-error';
import { causeChain, field } from './error-fields.js';

/** Socket-level error codes from Node, undici and DNS that a retry can cure. */
const transientCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/**
 * True for network failures a retry can cure: connection refused or reset, socket and DNS
 * timeouts (`ECONNRESET`, `ECONNREFUSED`, `ETIMEDOUT`, `EAI_AGAIN`, undici's `UND_ERR_*`
 * timeouts), and `fetch`'s "fetch failed" errors, looking through `cause` chains.
 *
 * @param error - Anything caught.
 * @returns Whether it is a transient network failure.
 * @example
 * ```ts
 * import { isNetworkError } from '@hardening/core';
 * try {
 *   await fetch('http://127.0.0.1:9/');
 * } catch (error) {
 *   console.log(isNetworkError(error)); // true: ECONNREFUSED
 * }
 * ```
 */
export function isNetworkError(error: unknown): boolean {
  for (const link of causeChain(error)) {
    const code = field(link, 'code');
    if (typeof code === 'string' && transientCodes.has(code)) return true;
    if (link instanceof Error && isNetworkFailure(link)) return true;
  }
  return false;
}
