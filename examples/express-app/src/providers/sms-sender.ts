import type { TwilioClient } from './twilio-client.js';

/** An SMS to send. */
export interface SmsRequest {
  readonly to: string;
  readonly from: string;
  readonly body: string;
  /** Where Twilio posts delivery updates. */
  readonly statusCallback?: string;
}

/**
 * Sends SMS and finds ones already sent. Twilio's Messages API has no idempotency key, so
 * the outbox worker looks a send up ({@link SmsSender.findSent}) before retrying one whose
 * outcome it does not know.
 */
export interface SmsSender {
  send(sms: SmsRequest): Promise<{ sid: string; status: string }>;
  /**
   * The SID of a message to `to` from `from` with this body created since `since`, if any,
   * other than the SIDs in `exclude` (messages already matched to other sends).
   */
  findSent(query: { to: string; from: string; body: string; since: Date; exclude?: ReadonlySet<string> }): Promise<string | undefined>;
  /** One message by SID (GET Messages/{sid}): its status now, when its receipt never came. */
  fetchStatus(sid: string): Promise<SentSms>;
  /** Messages created since `since`, at most `limit` (the daily reconciliation). */
  listSince(since: Date, limit: number): Promise<SentSms[]>;
}

/** A message as Twilio's Messages API has it (for stuck receipts and reconciliation). */
export interface SentSms {
  readonly sid: string;
  readonly status: string;
  readonly errorCode: number | undefined;
  readonly to: string;
  readonly from: string;
  readonly dateCreated: Date | undefined;
}

/** How far Twilio's clock may be behind ours when matching a send by its creation time. */
const clockSkewMs = 2000;

function sentSms(m: { sid: string; status: string; errorCode: number | null; to: string; from: string; dateCreated: Date | null }): SentSms {
  return { sid: m.sid, status: m.status, errorCode: m.errorCode ?? undefined, to: m.to, from: m.from, dateCreated: m.dateCreated ?? undefined };
}

/** An {@link SmsSender} over the Twilio REST client. */
export function twilioSender(client: TwilioClient): SmsSender {
  return {
    async send(sms) {
      const message = await client.messages.create({
        to: sms.to,
        from: sms.from,
        body: sms.body,
        ...(sms.statusCallback === undefined ? {} : { statusCallback: sms.statusCallback }),
      });
      return { sid: message.sid, status: message.status };
    },
    async fetchStatus(sid) {
      return sentSms(await client.messages(sid).fetch());
    },
    async listSince(since, limit) {
      // DateSent filters on the day; a message still queued has none, so filter on creation here too.
      const messages = await client.messages.list({ dateSentAfter: new Date(since.getTime() - 86_400_000), limit });
      return messages.filter((m) => m.dateCreated === null || m.dateCreated.getTime() >= since.getTime() - clockSkewMs).map(sentSms);
    },
    async findSent({ to, from, body, since, exclude }) {
      // Newest first. Not filtered on DateSent: a message still queued has none yet, and
      // missing it here would mean sending it twice.
      const messages = await client.messages.list({ to, from, limit: 50 });
      // Twilio's date_created has whole seconds (RFC 2822), and Twilio's clock is not ours:
      // a message created in the same second as the outbox row reads as *before* it.
      const from_ = Math.floor(since.getTime() / 1000) * 1000 - clockSkewMs;
      return messages.find((m) => m.body === body && m.dateCreated !== null && m.dateCreated.getTime() >= from_ && exclude?.has(m.sid) !== true)?.sid;
    },
  };
}
