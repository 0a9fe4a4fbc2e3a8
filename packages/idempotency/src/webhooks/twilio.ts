import { WebhookKeyMissingError } from '../errors/webhook-key-missing-error.js';
import { headerValue, type WebhookHeaders } from './webhook-types.js';

/**
 * Which Twilio identifier a webhook is deduplicated on.
 * - `sms`: inbound message, `MessageSid`.
 * - `message-status`: message status callback, `MessageSid` + `MessageStatus`.
 * - `voice-status`: call status callback, `CallSid` + `CallStatus`.
 * - `token`: the `I-Twilio-Idempotency-Token` header only (any webhook: Twilio keeps it
 *   the same across its retries of one request).
 * - `auto`: messages on their SIDs as above; calls on the token when present (a call has
 *   many webhooks with one `CallSid`, e.g. every `<Gather>` action), else `CallSid` +
 *   `CallStatus`; anything else on the token.
 */
export type TwilioWebhookKind = 'auto' | 'sms' | 'message-status' | 'voice-status' | 'token';

/** A Twilio webhook: its headers and its form parameters (`req.body` after `express.urlencoded()`). */
export interface TwilioWebhookRequest {
  /** Request headers (`i-twilio-idempotency-token` is read). */
  readonly headers: WebhookHeaders;
  /** The form parameters Twilio posted (`MessageSid`, `CallSid`, `CallStatus`, ...). */
  readonly params: Readonly<Record<string, unknown>>;
}

const tokenHeader = 'i-twilio-idempotency-token';

function param(params: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = params[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * Derives the dedup key of a (verified) Twilio webhook.
 *
 * @param request - Headers and form parameters.
 * @param kind - Which identifier to use; see {@link TwilioWebhookKind}.
 * @returns The key, e.g. `sms:SM123`, `call:CA123:completed`, `token:...`.
 * @throws {@link WebhookKeyMissingError} when the identifier is absent.
 * @example
 * ```ts
 * import { twilioDedupKey } from '@hardening/idempotency';
 * twilioDedupKey({ headers: {}, params: { MessageSid: 'SM123', SmsStatus: 'received' } }); // 'sms:SM123'
 * twilioDedupKey({ headers: {}, params: { CallSid: 'CA1', CallStatus: 'completed' } }, 'voice-status'); // 'call:CA1:completed'
 * ```
 */
export function twilioDedupKey(request: TwilioWebhookRequest, kind: TwilioWebhookKind = 'auto'): string {
  const { params } = request;
  const token = headerValue(request.headers, tokenHeader);
  const messageSid = param(params, 'MessageSid') ?? param(params, 'SmsSid');
  const messageStatus = param(params, 'MessageStatus') ?? param(params, 'SmsStatus');
  const callSid = param(params, 'CallSid');
  const callStatus = param(params, 'CallStatus');
  const missing = (what: string): never => {
    throw new WebhookKeyMissingError('twilio', `${what} is missing`);
  };
  switch (kind) {
    case 'sms':
      return `sms:${messageSid ?? missing('MessageSid')}`;
    case 'message-status':
      return `msg:${messageSid ?? missing('MessageSid')}:${messageStatus ?? missing('MessageStatus')}`;
    case 'voice-status':
      return `call:${callSid ?? missing('CallSid')}:${callStatus ?? missing('CallStatus')}`;
    case 'token':
      return `token:${token ?? missing('the I-Twilio-Idempotency-Token header')}`;
    case 'auto':
      if (messageSid !== undefined && callSid === undefined) {
        return messageStatus === undefined || messageStatus === 'received' ? `sms:${messageSid}` : `msg:${messageSid}:${messageStatus}`;
      }
      if (token !== undefined) return `token:${token}`;
      if (callSid !== undefined && callStatus !== undefined) return `call:${callSid}:${callStatus}`;
      return missing('MessageSid, CallSid + CallStatus and the I-Twilio-Idempotency-Token header are all');
    default:
      throw new TypeError(`Expected \`kind\` to be 'auto', 'sms', 'message-status', 'voice-status' or 'token', got ${String(kind)}.`);
  }
}
