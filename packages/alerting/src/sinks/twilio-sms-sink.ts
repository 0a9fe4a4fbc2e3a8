import { isTransientError, maskPhoneNumber } from '@hardening/core';
import type { AlertMessage } from '../alert.js';
import { plainText } from '../format.js';
import { checkSender, parseOnCallNumbers } from './phone-numbers.js';
import { ackCode } from '../acknowledgements/ack-code.js';
import type { AlertSink, SinkContext, SinkReceipt } from './sink.js';

/**
 * The slice of a `twilio` client the SMS sink uses (`twilio(accountSid, authToken)` fits).
 * `twilio` is an optional peer dependency: pass your own client.
 *
 * @example
 * ```ts
 * import twilio from 'twilio';
 * import type { TwilioMessagesClient } from '@hardening/alerting';
 * const client: TwilioMessagesClient = twilio(process.env.TWILIO_ACCOUNT_SID, process.env.TWILIO_AUTH_TOKEN);
 * ```
 */
export interface TwilioMessagesClient {
  readonly messages: {
    create(params: {
      to: string;
      body: string;
      from?: string;
      messagingServiceSid?: string;
      statusCallback?: string;
    }): Promise<{ sid: string; status?: string }>;
  };
}

/**
 * Options for {@link createTwilioSmsSink}.
 *
 * @example
 * ```ts
 * import twilio from 'twilio';
 * import { createTwilioSmsSink } from '@hardening/alerting';
 * const sms = createTwilioSmsSink({
 *   client: twilio(process.env.TWILIO_ACCOUNT_SID, process.env.TWILIO_AUTH_TOKEN),
 *   from: '+15557654321',
 *   to: ['+15551234567'],
 *   statusCallbackUrl: 'https://app.example.com/webhooks/twilio/alert-status',
 * });
 * ```
 */
export interface TwilioSmsSinkOptions {
  /** A `twilio` client. */
  readonly client: TwilioMessagesClient;
  /**
   * On-call numbers in E.164: an array or a comma-separated string. Checked now: a bad
   * number throws a `TypeError` at configuration time, not at 3 a.m.
   */
  readonly to: readonly string[] | string;
  /** Sender number (E.164) or alphanumeric sender id. One of `from` and `messagingServiceSid` is required. */
  readonly from?: string | undefined;
  /** A Twilio Messaging Service SID (`MG...`) to send from instead of `from`. */
  readonly messagingServiceSid?: string | undefined;
  /**
   * Public URL of the handler that receives Twilio's status callbacks
   * ({@link createTwilioStatusCallbackHandler}). When set, every alert SMS asks for
   * delivery receipts: `delivered` confirms it, `failed`/`undelivered` or no receipt in
   * time falls back to the next sink.
   * @default undefined (no delivery confirmation)
   */
  readonly statusCallbackUrl?: string | undefined;
  /**
   * Sink name, used in routes.
   * @default 'sms'
   */
  readonly name?: string | undefined;
  /**
   * Longest SMS text; longer alerts are cut on a word boundary. 320 characters is two
   * GSM-7 segments.
   * @default 320
   */
  readonly maxLength?: number | undefined;
  /**
   * End every alert SMS with "Reply ACK <code>" (the alert's short code, see `ackCode`):
   * the operator's reply, passed to `alerts.handleSmsReply` by your inbound SMS webhook,
   * acknowledges the alert and stops its escalation.
   * @default false
   */
  readonly ackHint?: boolean | undefined;
}

const defaults = { name: 'sms', maxLength: 320 };

const sentKey = 'twilio:sent';

/**
 * An alert sink that texts every on-call number through Twilio. A retry after a partial
 * failure only texts the numbers not reached yet. When some numbers were reached and the
 * others refused for good (a 4xx), the delivery counts, with a warning per refused number.
 *
 * @param options - See {@link TwilioSmsSinkOptions}.
 * @returns The sink.
 * @throws TypeError when a number, the sender, or another option is invalid.
 * @example
 * ```ts
 * import twilio from 'twilio';
 * import { createAlertService, createTwilioSmsSink } from '@hardening/alerting';
 * const alerts = createAlertService({
 *   sinks: [createTwilioSmsSink({ client: twilio(sid, token), from: '+15557654321', to: '+15551234567' })],
 * });
 * ```
 */
export function createTwilioSmsSink(options: TwilioSmsSinkOptions): AlertSink {
  const client = options?.client as Partial<TwilioMessagesClient> | undefined;
  if (typeof client?.messages?.create !== 'function') {
    throw new TypeError('Expected `client` to be a twilio client (with messages.create).');
  }
  const to = parseOnCallNumbers(options.to, 'to');
  const from = options.from === undefined ? undefined : checkSender(options.from, 'from');
  const { messagingServiceSid, statusCallbackUrl } = options;
  if (messagingServiceSid !== undefined && !/^MG[0-9a-fA-F]{32}$/.test(messagingServiceSid)) {
    throw new TypeError('Expected `messagingServiceSid` to be a Messaging Service SID (MG followed by 32 hex digits).');
  }
  const sender: { readonly from: string } | { readonly messagingServiceSid: string } =
    from !== undefined ? { from } : messagingServiceSid !== undefined ? { messagingServiceSid } : noSender();
  if (statusCallbackUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(statusCallbackUrl)) {
    throw new TypeError(`Expected \`statusCallbackUrl\` to be an absolute http(s) URL, got ${JSON.stringify(statusCallbackUrl)}.`);
  }
  const name = options.name ?? defaults.name;
  const maxLength = options.maxLength ?? defaults.maxLength;
  if (!Number.isInteger(maxLength) || maxLength < 40 || maxLength > 1600) {
    throw new TypeError(`Expected \`maxLength\` to be an integer from 40 to 1600, got ${String(maxLength)}.`);
  }
  const messages = (client as TwilioMessagesClient).messages;

  return {
    name,
    remote: true,
    async send(message: AlertMessage, context: SinkContext): Promise<SinkReceipt> {
      const hint = options.ackHint === true && message.kind !== 'resolve' ? `\nReply ACK ${ackCode(message.type, message.key)}` : '';
      const body = plainText(message, maxLength - hint.length) + hint;
      const sent = (context.memo.get(sentKey) as Map<string, string> | undefined) ?? new Map<string, string>();
      context.memo.set(sentKey, sent);
      const pending = to.filter((number) => !sent.has(number));
      const outcomes = await Promise.allSettled(
        pending.map(async (number) => {
          const created = await messages.create({
            to: number,
            body,
            ...sender,
            ...(statusCallbackUrl !== undefined ? { statusCallback: statusCallbackUrl } : {}),
          });
          sent.set(number, created.sid);
        }),
      );
      const failures = outcomes.flatMap((outcome, index) =>
        outcome.status === 'rejected' ? [{ number: pending[index]!, error: outcome.reason as unknown }] : [],
      );
      if (failures.length > 0) {
        const retryable = failures.find((f) => isTransientError(f.error));
        // Nobody reached yet, or a failure a retry may fix: fail the attempt (a retry only
        // texts the numbers not reached yet).
        if (sent.size === 0 || retryable !== undefined) throw (retryable ?? failures[0]!).error;
      }
      const ids = [...sent.values()];
      return {
        ids,
        awaitingConfirmation: statusCallbackUrl !== undefined ? ids : undefined,
        warnings: failures.map((f) => `SMS to ${maskPhoneNumber(f.number)} refused: ${describeTwilioError(f.error)}`),
      };
    },
  };
}

function describeTwilioError(error: unknown): string {
  const e = error as { status?: unknown; code?: unknown; message?: unknown };
  // Twilio's RestException has a numeric status and code; anything else is left out rather than shown as "[object Object]".
  const status = scalar(e.status);
  const code = scalar(e.code);
  const parts = [status === undefined ? undefined : `HTTP ${status}`, code === undefined ? undefined : `code ${code}`];
  return parts.filter(Boolean).join(', ') || 'error';
}

function scalar(value: unknown): string | undefined {
  return typeof value === 'number' || typeof value === 'string' ? String(value) : undefined;
}

function noSender(): never {
  throw new TypeError('Expected `from` (a sender number) or `messagingServiceSid`.');
}
