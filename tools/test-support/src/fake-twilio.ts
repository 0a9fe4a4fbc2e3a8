// A local server that speaks Twilio's Messages API (POST/GET
// /2010-04-01/Accounts/{AccountSid}/Messages.json, form bodies, HTTP Basic auth, Twilio's
// JSON resources and error bodies) and sends signed status callbacks, so tests drive the
// real `twilio` SDK against it.
import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { startFakeHttpServer, type FakeHttpServer, type RecordedRequest } from './fake-http.js';

/** A message the fake accepted. */
export interface FakeTwilioMessage {
  readonly sid: string;
  readonly accountSid: string;
  readonly to: string;
  readonly from: string | undefined;
  readonly messagingServiceSid: string | undefined;
  readonly body: string;
  readonly statusCallback: string | undefined;
  /** Current status: `queued` (or `accepted` with a messaging service), then what {@link FakeTwilio.sendStatus} set. */
  status: string;
  /** The error code of a failed or undelivered message (the resource's `error_code`). */
  errorCode: number | undefined;
  readonly createdAt: Date;
  /** The request that created it. */
  readonly request: RecordedRequest;
}

/** Options for {@link startFakeTwilio}. */
export interface FakeTwilioOptions {
  /** The account SID the fake accepts. @default a random `AC...` */
  readonly accountSid?: string;
  /** The auth token it accepts (and signs status callbacks with). @default random */
  readonly authToken?: string;
  /**
   * Statuses to send to each message's `StatusCallback` on its own, in order, `delayMs`
   * apart (e.g. `['sent', 'delivered']`). Off by default: call {@link FakeTwilio.sendStatus}.
   */
  readonly autoStatus?: { readonly statuses: readonly string[]; readonly delayMs?: number };
}

/** What {@link FakeTwilio.sendStatus} posted and what the app answered. */
export interface StatusCallbackResult {
  readonly url: string;
  readonly params: Record<string, string>;
  readonly signature: string;
  readonly status: number;
  readonly body: string;
}

/** The running fake. */
export interface FakeTwilio extends FakeHttpServer {
  readonly accountSid: string;
  readonly authToken: string;
  /** Messages accepted, in order. */
  readonly messages: FakeTwilioMessage[];
  /**
   * An `httpClient` for the real SDK (`twilio(sid, token, { httpClient })`) that sends the
   * SDK's real requests to this server instead of api.twilio.com.
   */
  readonly httpClient: { request(opts: Record<string, unknown>): Promise<unknown> };
  /** A real `twilio` client pointed at this server. */
  client(): ReturnType<typeof twilio>;
  /**
   * Moves a message to `status` and posts Twilio's status callback (form body, valid
   * `X-Twilio-Signature`) to the message's `StatusCallback`, or to `url`.
   */
  sendStatus(
    sid: string,
    status: string,
    options?: { readonly errorCode?: number; readonly url?: string; readonly replay?: boolean },
  ): Promise<StatusCallbackResult>;
  /**
   * Moves a message to `status` (and `errorCode`) without posting a callback: a receipt
   * that never arrives, which only a lookup (GET Messages/{sid}) or the list reveals.
   */
  setStatus(sid: string, status: string, errorCode?: number): void;
  /**
   * Campaign block: every message from `from` created from now on is accepted (201, as
   * Twilio does: the carrier refuses it later), then moves to `status` with `code` and its
   * callback is posted (unless `callback: false`). Until {@link FakeTwilio.unblockSender}.
   */
  blockSender(from: string, options?: { readonly code?: number; readonly status?: 'undelivered' | 'failed'; readonly callback?: boolean }): void;
  unblockSender(from: string): void;
  /**
   * Answers the next `times` message creations (POST .../Messages.json) with Twilio error
   * `code`, as Twilio does: its JSON error body (`code`, `message`, `more_info`, `status`)
   * and the HTTP status Twilio uses for it (401 for 20003, 429 for 20429, 400 otherwise,
   * or `status`). Delivery codes (30xxx) normally arrive by status callback; answering a
   * creation with one lets a test drive a send that fails with it through the real SDK.
   */
  failWithCode(code: number, options?: { readonly times?: number; readonly status?: number; readonly headers?: Record<string, string> }): void;
}

/** The HTTP status Twilio answers a REST error code with. */
function statusForCode(code: number): number {
  if (code === 20003) return 401;
  if (code === 20404) return 404;
  if (code === 20429) return 429;
  if (code >= 20500 && code < 20600) return code - 20000;
  return 400;
}

const e164 = /^\+[1-9]\d{6,14}$/;

function twilioError(status: number, code: number, message: string) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

function errorBodyFor(status: number) {
  const codes: Record<number, [number, string]> = {
    400: [21211, 'Invalid parameter'],
    401: [20003, 'Authenticate'],
    404: [20404, 'The requested resource was not found'],
    429: [20429, 'Too Many Requests'],
    500: [20500, 'Internal Server Error'],
    503: [20503, 'Service Unavailable'],
  };
  const [code, message] = codes[status] ?? [status * 100, 'Error'];
  return twilioError(status, code, message);
}

function resource(message: FakeTwilioMessage) {
  return {
    account_sid: message.accountSid,
    api_version: '2010-04-01',
    body: message.body,
    date_created: message.createdAt.toUTCString(),
    date_sent: null,
    date_updated: message.createdAt.toUTCString(),
    direction: 'outbound-api',
    error_code: message.errorCode ?? null,
    error_message: null,
    from: message.from ?? null,
    messaging_service_sid: message.messagingServiceSid ?? null,
    num_media: '0',
    num_segments: String(Math.max(1, Math.ceil(message.body.length / 153))),
    price: null,
    price_unit: 'USD',
    sid: message.sid,
    status: message.status,
    subresource_uris: { media: `/2010-04-01/Accounts/${message.accountSid}/Messages/${message.sid}/Media.json` },
    to: message.to,
    uri: `/2010-04-01/Accounts/${message.accountSid}/Messages/${message.sid}.json`,
  };
}

/**
 * A real `twilio` client whose requests go to `baseUrl` (a fake Twilio, possibly in another
 * process) instead of api.twilio.com: the SDK's own `RequestClient` sends them, with the
 * path and query unchanged.
 *
 * @param baseUrl - e.g. `http://127.0.0.1:45123`.
 * @param accountSid - The account SID.
 * @param authToken - The auth token.
 * @returns A twilio client.
 */
export function twilioClientFor(baseUrl: string, accountSid: string, authToken: string): ReturnType<typeof twilio> {
  const httpClient = {
    request(opts: Record<string, unknown>): Promise<unknown> {
      const uri = new URL(String(opts.uri));
      return new twilio.RequestClient().request({ ...opts, uri: `${baseUrl}${uri.pathname}${uri.search}` } as never);
    },
  };
  return twilio(accountSid, authToken, { httpClient: httpClient as never });
}

/**
 * Starts a fake Twilio Messages API on 127.0.0.1.
 *
 * @param options - Credentials and automatic status callbacks.
 * @returns The running fake.
 * @example
 * ```ts
 * const fake = await startFakeTwilio();
 * await fake.client().messages.create({ to: '+15551234567', from: '+15557654321', body: 'hi', statusCallback: 'http://127.0.0.1:3000/status' });
 * fake.messages[0].body; // 'hi'
 * await fake.sendStatus(fake.messages[0].sid, 'delivered');
 * ```
 */
export async function startFakeTwilio(options: FakeTwilioOptions = {}): Promise<FakeTwilio> {
  const accountSid = options.accountSid ?? `AC${randomBytes(16).toString('hex')}`;
  const authToken = options.authToken ?? randomBytes(16).toString('hex');
  const messages: FakeTwilioMessage[] = [];
  const blocked = new Map<string, { code: number; status: 'undelivered' | 'failed'; callback: boolean }>();
  const base = '/2010-04-01/Accounts/';

  const sendStatus: FakeTwilio['sendStatus'] = async (sid, status, extra = {}) => {
    const message = messages.find((m) => m.sid === sid);
    if (message === undefined) throw new Error(`fake Twilio: no message ${sid}`);
    const url = extra.url ?? message.statusCallback;
    if (url === undefined) throw new Error(`fake Twilio: message ${sid} has no StatusCallback`);
    // A replay (a duplicate or a late, stale callback) leaves the resource as it is.
    if (extra.replay !== true) {
      message.status = status;
      if (extra.errorCode !== undefined) message.errorCode = extra.errorCode;
    }
    const params: Record<string, string> = {
      AccountSid: accountSid,
      ApiVersion: '2010-04-01',
      From: message.from ?? '',
      MessageSid: sid,
      MessageStatus: status,
      SmsSid: sid,
      SmsStatus: status,
      To: message.to,
    };
    if (message.messagingServiceSid) params.MessagingServiceSid = message.messagingServiceSid;
    if (extra.errorCode !== undefined) params.ErrorCode = String(extra.errorCode);
    const signature = twilio.getExpectedTwilioSignature(authToken, url, params);
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature, 'User-Agent': 'TwilioProxy/1.1' },
      body: new URLSearchParams(params).toString(),
    });
    return { url, params, signature, status: response.status, body: await response.text() };
  };

  const authorized = (request: RecordedRequest): boolean => {
    const header = request.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return false;
    const [user, password] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
    return user === accountSid && password === authToken;
  };

  const server = await startFakeHttpServer({
    errorBody: errorBodyFor,
    route: (request) => {
      if (!request.path.startsWith(base)) return undefined;
      if (!authorized(request)) return { status: 401, body: twilioError(401, 20003, 'Authenticate') };
      const [sid, collection, rest] = request.path.slice(base.length).split('/');
      if (sid !== accountSid) return { status: 404, body: twilioError(404, 20404, 'The requested resource was not found') };
      if (request.method === 'POST' && collection === 'Messages.json' && rest === undefined) {
        const form = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, string>;
        if (!form.To) return { status: 400, body: twilioError(400, 21604, "A 'To' phone number is required.") };
        if (!e164.test(form.To)) return { status: 400, body: twilioError(400, 21211, `The 'To' number ${form.To} is not a valid phone number.`) };
        if (!form.From && !form.MessagingServiceSid) {
          return { status: 400, body: twilioError(400, 21603, "A 'From' phone number is required.") };
        }
        if (!form.Body) return { status: 400, body: twilioError(400, 21602, 'Message body is required.') };
        if (form.Body.length > 1600) return { status: 400, body: twilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.') };
        const message: FakeTwilioMessage = {
          sid: `SM${randomBytes(16).toString('hex')}`,
          accountSid,
          to: form.To,
          from: form.From,
          messagingServiceSid: form.MessagingServiceSid,
          body: form.Body,
          statusCallback: form.StatusCallback,
          status: form.MessagingServiceSid ? 'accepted' : 'queued',
          errorCode: undefined,
          createdAt: new Date(),
          request,
        };
        messages.push(message);
        const block = form.From === undefined ? undefined : blocked.get(form.From);
        if (block !== undefined) {
          if (block.callback && message.statusCallback !== undefined) {
            setTimeout(() => void sendStatus(message.sid, block.status, { errorCode: block.code }).catch(() => undefined), 10);
          } else {
            message.status = block.status;
            message.errorCode = block.code;
          }
          return { status: 201, body: resource(message) };
        }
        if (options.autoStatus !== undefined && message.statusCallback !== undefined) {
          const { statuses, delayMs = 20 } = options.autoStatus;
          void (async () => {
            for (const status of statuses) {
              await new Promise((r) => setTimeout(r, delayMs));
              await sendStatus(message.sid, status).catch(() => undefined);
            }
          })();
        }
        return { status: 201, body: resource(message) };
      }
      if (request.method === 'GET' && collection?.startsWith('Messages') && rest === undefined) {
        if (collection === 'Messages.json') {
          // As Twilio does: filtered on To and From, newest first, one page of PageSize.
          const pageSize = Math.min(1000, Number(request.query.PageSize ?? 50) || 50);
          const listed = messages
            .filter((m) => (request.query.To === undefined || m.to === request.query.To) && (request.query.From === undefined || m.from === request.query.From))
            .slice()
            .reverse()
            .slice(0, pageSize);
          return { status: 200, body: { messages: listed.map(resource), page: 0, page_size: pageSize, first_page_uri: request.url, next_page_uri: null } };
        }
        return undefined;
      }
      if (request.method === 'GET' && collection === 'Messages' && rest?.endsWith('.json')) {
        const message = messages.find((m) => m.sid === rest.slice(0, -5));
        return message ? { status: 200, body: resource(message) } : { status: 404, body: twilioError(404, 20404, 'The requested resource was not found') };
      }
      return undefined;
    },
  });

  const httpClient = {
    request(opts: Record<string, unknown>): Promise<unknown> {
      const uri = new URL(String(opts.uri));
      return new twilio.RequestClient().request({ ...opts, uri: `${server.url}${uri.pathname}${uri.search}` } as never);
    },
  };

  return {
    ...server,
    accountSid,
    authToken,
    messages,
    httpClient,
    client: () => twilioClientFor(server.url, accountSid, authToken),
    sendStatus,
    setStatus: (sid, status, errorCode) => {
      const message = messages.find((m) => m.sid === sid);
      if (message === undefined) throw new Error(`fake Twilio: no message ${sid}`);
      message.status = status;
      if (errorCode !== undefined) message.errorCode = errorCode;
    },
    blockSender: (from, extra = {}) =>
      void blocked.set(from, { code: extra.code ?? 30007, status: extra.status ?? 'undelivered', callback: extra.callback ?? true }),
    unblockSender: (from) => void blocked.delete(from),
    failWithCode: (code, extra = {}) => {
      const status = extra.status ?? statusForCode(code);
      server.fail({
        match: (request) => request.method === 'POST' && request.path.endsWith('/Messages.json'),
        times: extra.times ?? 1,
        status,
        body: twilioError(status, code, `Twilio error ${code} (fake)`),
        ...(extra.headers !== undefined ? { headers: extra.headers } : {}),
      });
    },
  };
}
