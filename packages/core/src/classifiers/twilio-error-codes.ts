/**
 * Twilio error codes by who is at fault and whether a retry can help, from Twilio's
 * published error dictionary (https://www.twilio.com/docs/api/errors, one page per code;
 * `source` below is that page). Codes from the REST API (21xxx, 20xxx: thrown by the SDK
 * with an HTTP status) and delivery codes (30xxx: the `ErrorCode` of a status callback or
 * the message resource's `error_code`) share one table.
 *
 * To add a code: read its page, decide who is at fault (the recipient, the message, the
 * sender, the account) and whether the same send can succeed later, and cite the page.
 */

/** Who a Twilio error is about. */
export type TwilioErrorScope = 'recipient' | 'message' | 'sender' | 'account' | 'unknown';

/**
 * What a Twilio error means for the next send: `terminal` (the same send fails again, for
 * this recipient or message), `transient` (it may succeed later) or `systemic` (every send
 * from this sender or account fails until an operator acts).
 */
export type TwilioErrorKind = 'terminal' | 'transient' | 'systemic';

/** One row of the table. */
export interface TwilioErrorCodeEntry {
  readonly scope: Exclude<TwilioErrorScope, 'unknown'>;
  readonly kind: TwilioErrorKind;
  /** What happened, in Twilio's words, shortened. */
  readonly reason: string;
  /** Attempts in all one message deserves for a transient code (the first included). */
  readonly maxAttempts?: number;
}

/** The page of Twilio's error dictionary that documents `code`. */
export const twilioErrorSource = (code: number): string => `https://www.twilio.com/docs/api/errors/${code}`;

/**
 * Transient per-recipient codes get one retry: each attempt is billed, and Twilio's own
 * advice for 30003 is a single new send to rule out a one-time downstream issue.
 */
const recipientRetries = 2;

export const twilioErrorCodes: ReadonlyMap<number, TwilioErrorCodeEntry> = new Map<number, TwilioErrorCodeEntry>([
  // Account: the credentials or the account itself; every send fails, so the breaker counts it.
  [20003, { scope: 'account', kind: 'systemic', reason: 'authentication failed (wrong Account SID, auth token or API key)' }],
  [20429, { scope: 'account', kind: 'transient', reason: 'too many concurrent REST requests; never processed, safe to retry after backing off' }],
  [30002, { scope: 'account', kind: 'systemic', reason: 'account suspended' }],
  // Recipient, terminal: this number will not receive this sender's SMS; do not retry it.
  [21211, { scope: 'recipient', kind: 'terminal', reason: "invalid 'To' phone number" }],
  [21214, { scope: 'recipient', kind: 'terminal', reason: "'To' phone number cannot be reached" }],
  [21217, { scope: 'recipient', kind: 'terminal', reason: 'phone number does not appear to be valid' }],
  [21401, { scope: 'recipient', kind: 'terminal', reason: 'invalid phone number' }],
  [21407, { scope: 'recipient', kind: 'terminal', reason: 'this phone number type does not support SMS or MMS' }],
  [21421, { scope: 'recipient', kind: 'terminal', reason: 'phone number is invalid' }],
  [21608, { scope: 'recipient', kind: 'terminal', reason: "'To' number not verified for this trial or unprofiled account" }],
  [21610, { scope: 'recipient', kind: 'terminal', reason: 'recipient unsubscribed from this sender (replied STOP)' }],
  [21612, { scope: 'recipient', kind: 'terminal', reason: "cannot route to this number with this 'To' and 'From' combination" }],
  [21614, { scope: 'recipient', kind: 'terminal', reason: "'To' number is not a valid mobile number" }],
  [30004, { scope: 'recipient', kind: 'terminal', reason: 'message blocked by the recipient or their carrier' }],
  [30005, { scope: 'recipient', kind: 'terminal', reason: 'unknown destination handset (number inactive or not in service)' }],
  [30006, { scope: 'recipient', kind: 'terminal', reason: 'landline or unreachable carrier' }],
  // Recipient, transient: the handset may come back; a bounded number of attempts.
  [30003, { scope: 'recipient', kind: 'transient', reason: 'unreachable destination handset (off, no signal, roaming)', maxAttempts: recipientRetries }],
  [30008, { scope: 'recipient', kind: 'transient', reason: 'unknown delivery error from the carrier', maxAttempts: recipientRetries }],
  // Message: the request itself is malformed; fix the code, not the provider.
  [21602, { scope: 'message', kind: 'terminal', reason: 'message body is required' }],
  [21603, { scope: 'message', kind: 'terminal', reason: "'From' phone number is required" }],
  [21604, { scope: 'message', kind: 'terminal', reason: "'To' phone number is required" }],
  [21617, { scope: 'message', kind: 'terminal', reason: 'concatenated message body exceeds the 1600 character limit' }],
  // Sender: every message from this number or campaign fails until an operator acts.
  [21212, { scope: 'sender', kind: 'systemic', reason: "invalid 'From' phone number" }],
  [21408, { scope: 'sender', kind: 'systemic', reason: 'permission to send SMS has not been enabled for the region (geo permissions)' }],
  [21606, { scope: 'sender', kind: 'systemic', reason: "'From' number is not a valid, SMS-capable number of this account" }],
  [21660, { scope: 'sender', kind: 'systemic', reason: "mismatch between the 'From' number and the account" }],
  [30007, { scope: 'sender', kind: 'systemic', reason: 'message filtered by the carrier (spam, content or volume)' }],
  [30024, { scope: 'sender', kind: 'systemic', reason: 'sender ID not provisioned with the carrier' }],
  [30032, { scope: 'sender', kind: 'systemic', reason: 'toll-free number has not been verified' }],
  [30034, { scope: 'sender', kind: 'systemic', reason: 'US A2P 10DLC: message from a number not registered to a campaign' }],
  // Sender, transient: the sender's queue overflowed; slower sending gets through.
  [30001, { scope: 'sender', kind: 'transient', reason: 'queue overflow: too many messages queued for this sender' }],
]);
