import { httpStatusOf } from '@hardening/core';

/** How a failed send leaves the message. */
export type SendFailure = 'not_accepted' | 'rejected' | 'unknown';

const neverConnected = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function codeOf(error: unknown): string | undefined {
  for (let link = error, i = 0; link !== null && typeof link === 'object' && i < 4; link = (link as { cause?: unknown }).cause, i++) {
    const code = (link as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/**
 * What a failed Messages API call means for the message:
 * - `not_accepted`: Twilio certainly did not create it (the connection was never made,
 *   or Twilio answered 429 or 503): safe to send again.
 * - `rejected`: Twilio refused it for good (400 invalid number, 21610 unsubscribed, 401
 *   bad credentials): sending again cannot help.
 * - `unknown`: the request may have gone through (a timeout, a reset, a 500): look it up
 *   before any retry, or the customer may get it twice.
 */
export function classifySendFailure(error: unknown): SendFailure {
  const status = httpStatusOf(error);
  if (status === 429 || status === 503) return 'not_accepted';
  if (status !== undefined && status >= 400 && status < 500) return 'rejected';
  const code = codeOf(error);
  if (code !== undefined && neverConnected.has(code)) return 'not_accepted';
  return 'unknown';
}
