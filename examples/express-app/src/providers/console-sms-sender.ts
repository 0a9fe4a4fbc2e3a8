import { randomBytes } from 'node:crypto';
import { maskPhoneNumber, scrubText, type Logger } from '@hardening/core';
import type { SmsSender } from './sms-sender.js';

/**
 * A development stand-in for Twilio (`pnpm start` without TWILIO_ACCOUNT_SID and
 * TWILIO_AUTH_TOKEN): each SMS is logged as "would send" (numbers masked, in the body
 * too, as on every log line) and marked sent with a made-up SID, so the outbox, the admin API and `pnpm sim`
 * show what a real deployment would have sent. Never used in production or in tests.
 *
 * @example
 * ```ts
 * const sms = consoleSmsSender(logger);
 * await sms.send({ to: '+15550001111', from: '+15550000000', body: 'Hi' }); // logs "would send SMS"
 * ```
 */
export function consoleSmsSender(logger: Logger): SmsSender {
  return {
    send(sms) {
      const sid = `SMdev${randomBytes(15).toString('hex')}`;
      logger.info(
        { to: maskPhoneNumber(sms.to), from: maskPhoneNumber(sms.from), body: scrubText(sms.body), sid },
        'would send SMS (Twilio not configured: development stand-in)',
      );
      return Promise.resolve({ sid, status: 'sent' });
    },
    // Nothing is ever in doubt: send() never loses an answer.
    findSent: () => Promise.resolve(undefined),
    // Nothing reaches a carrier, so no receipt will come; there is no log to reconcile with.
    fetchStatus: (sid) => Promise.resolve({ sid, status: 'delivered', errorCode: undefined, to: '', from: '', dateCreated: undefined }),
    listSince: () => Promise.resolve([]),
  };
}
