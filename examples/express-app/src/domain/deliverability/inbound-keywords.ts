import { classifySmsKeyword } from '@hardening/core';
import type { DbOrTx } from '../../db/types.js';
import { texts } from '../messages.js';
import type { InboundSms } from '../routing.js';
import { applyKeyword } from './opt-out.js';
import { clearSuppressionsOnInbound } from './suppression.js';

/**
 * What an inbound SMS changes for deliverability, before it is routed: the sender's
 * suppression of this recipient is cleared (they text, so their number works), and an
 * opt-out keyword is applied to this (our number, their number) pair with its audit row.
 *
 * @returns The compliance reply when the SMS was a keyword that ends its processing (STOP,
 *   HELP, a START that resubscribed); undefined to route it as usual (any other text, a
 *   YES from someone not opted out: onboarding's "reply YES").
 */
export async function applyInboundDeliverability(tx: DbOrTx, sms: InboundSms): Promise<string | undefined> {
  // Our number is the inbound `To`; the recipient of our texts is the inbound `From`.
  const pair = { from: sms.to, to: sms.from };
  await clearSuppressionsOnInbound(tx, sms);
  const keyword = classifySmsKeyword(sms.body);
  if (keyword === undefined) return undefined;
  const changed = await applyKeyword(tx, pair, keyword, `inbound ${sms.messageSid}: ${sms.body.trim().toUpperCase().slice(0, 20)}`);
  if (keyword === 'opt_out') return texts.optedOut;
  if (keyword === 'help') return texts.help;
  return changed ? texts.optedIn : undefined;
}
