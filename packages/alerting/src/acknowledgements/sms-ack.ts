import type { AcknowledgeResult } from './acknowledgements.js';

/**
 * What {@link AlertService.handleSmsReply} did: `handled: false` when the text is not an
 * ACK (route it on); else the outcome and a short text to send back to the operator.
 *
 * @example
 * ```ts
 * const ack = await alerts.handleSmsReply({ from, body });
 * if (ack.handled && ack.outcome?.status === 'acknowledged') console.log('escalation stopped');
 * ```
 */
export type SmsAckOutcome =
  { readonly handled: false } | { readonly handled: true; readonly outcome?: AcknowledgeResult; readonly reply: string; readonly error?: string };

/**
 * The reply text for an SMS acknowledgement (plain text, short: one SMS segment).
 *
 * @param outcome - What the acknowledgement did.
 * @param code - The code the operator sent, if any.
 * @returns The text.
 */
export function smsAckReply(outcome: AcknowledgeResult, code: string | undefined): string {
  if (outcome.status === 'not_found') {
    return code === undefined ? 'Nothing to acknowledge: no open alert.' : `No open alert has code ${code}. Reply ACK alone for the newest alert.`;
  }
  const { ack } = outcome;
  if (outcome.status === 'already_acknowledged') return `${ack.type} (${ack.code}) was already acknowledged by ${ack.by} via ${ack.via}.`;
  return `Acknowledged ${ack.type} (${ack.code}). Escalation stopped.`;
}
