import type { Logger } from '@hardening/core';
import { maskPhoneNumber } from '@hardening/core';
import type { AcknowledgeOptions, AcknowledgeResult, Acknowledgements, AckTarget } from './acknowledgements/acknowledgements.js';
import { parseAckReply } from './acknowledgements/ack-code.js';
import type { SmsAckOutcome } from './acknowledgements/sms-ack.js';
import { smsAckReply } from './acknowledgements/sms-ack.js';
import { describeError } from './delivery.js';
import { scrubText } from './format.js';

/**
 * The body of `AlertService.acknowledge`: validates the caller's input (a typed error, before
 * anything is written) and acknowledges through `acks`.
 *
 * @param acks - The service's acknowledgements.
 * @param target - The alert's id, its short code, or its type and resource.
 * @param options - `by` (who, scrubbed) and `via`.
 * @returns What `acks.acknowledge` answers.
 * @throws TypeError for a bad target, `by` or `via`.
 * @example
 * ```ts
 * await acknowledgeAlert(acks, 'ACK7KQ2M', { by: 'alice', via: 'api' });
 * ```
 */
export async function acknowledgeAlert(acks: Acknowledgements, target: AckTarget, options: AcknowledgeOptions): Promise<AcknowledgeResult> {
  const valid =
    (typeof target === 'string' && target.trim() !== '' && target.length <= 200) ||
    (typeof target === 'object' && target !== null && typeof target.type === 'string' && target.type !== '');
  if (!valid) throw new TypeError('Expected `target` to be an alert id, a short code, or { type, resourceId }.');
  if (typeof options?.by !== 'string' || options.by.trim() === '' || options.by.length > 200) {
    throw new TypeError('Expected `options.by` to be a non-empty string (who acknowledged).');
  }
  if (options.via !== undefined && (typeof options.via !== 'string' || options.via.length > 40)) {
    throw new TypeError('Expected `options.via` to be a short string such as api, sms or slack.');
  }
  return acks.acknowledge(typeof target === 'string' ? target.trim() : target, { by: scrubText(options.by.trim()), via: options.via });
}

/**
 * The body of `AlertService.handleSmsReply`: `ACK` / `ACK <code>` acknowledges (the sender
 * recorded masked); anything else is `handled: false`. A store failure is answered, logged
 * and returned, never thrown (the webhook still replies).
 *
 * @param acks - The service's acknowledgements.
 * @param logger - Where a failed acknowledgement is logged.
 * @param reply - `from` and `body` of the SMS.
 * @returns Whether it was an ACK, what was done, and the text to reply with.
 * @example
 * ```ts
 * const ack = await handleSmsAckReply(acks, logger, { from: '+15550009999', body: 'ACK 7KQ2M' });
 * ```
 */
export async function handleSmsAckReply(
  acks: Acknowledgements,
  logger: Logger,
  reply: { readonly from: string; readonly body: string },
): Promise<SmsAckOutcome> {
  const parsed = parseAckReply(reply?.body);
  if (parsed === undefined) return { handled: false };
  const by = maskPhoneNumber(String(reply.from ?? 'unknown'));
  try {
    const outcome = await acks.acknowledge(parsed.code, { by, via: 'sms' });
    return { handled: true, outcome, reply: smsAckReply(outcome, parsed.code) };
  } catch (error) {
    logger.error({ err: describeError(error) }, 'alerting: an SMS acknowledgement could not be stored');
    return {
      handled: true,
      reply: 'Not acknowledged: the alert store is unavailable. Try again, or acknowledge in the admin page.',
      error: describeError(error),
    };
  }
}
