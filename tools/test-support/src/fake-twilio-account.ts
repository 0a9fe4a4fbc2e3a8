// A local server that speaks Twilio's account resources (GET
// /2010-04-01/Accounts/{AccountSid}.json and .../IncomingPhoneNumbers.json, HTTP Basic auth,
// Twilio's JSON resources and error bodies), so a readiness check can drive the real
// `twilio` SDK against it. The Messages API lives in fake-twilio.ts.
import { randomBytes } from 'node:crypto';
import { startFakeHttpServer, type FakeHttpServer, type RecordedRequest } from './fake-http.js';

/** A number on the fake account. */
export interface FakeIncomingNumber {
  /** E.164. */
  readonly phoneNumber: string;
  /** Where Twilio posts inbound SMS for it. */
  readonly smsUrl?: string;
  /** Where Twilio posts voice status callbacks for it. */
  readonly statusCallback?: string;
}

/** Options for {@link startFakeTwilioAccount}. */
export interface FakeTwilioAccountOptions {
  /** @default a random `AC...` */
  readonly accountSid?: string;
  /** @default random */
  readonly authToken?: string;
  /** Account status: `active`, `suspended` or `closed`. @default 'active' */
  readonly status?: 'active' | 'suspended' | 'closed';
  /** `Full` or `Trial`. @default 'Full' */
  readonly type?: 'Full' | 'Trial';
  /** @default 'Fake account' */
  readonly friendlyName?: string;
  /** Numbers on the account. @default [] */
  readonly numbers?: readonly FakeIncomingNumber[];
}

/** The running fake. */
export interface FakeTwilioAccount extends FakeHttpServer {
  readonly accountSid: string;
  readonly authToken: string;
}

function twilioError(status: number, code: number, message: string) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

/**
 * Starts a fake of Twilio's account and incoming-number resources on 127.0.0.1.
 *
 * @param options - Credentials, account status and numbers.
 * @returns The running fake.
 * @example
 * ```ts
 * const fake = await startFakeTwilioAccount({ numbers: [{ phoneNumber: '+15550001111' }] });
 * const client = twilioClientFor(fake.url, fake.accountSid, fake.authToken);
 * (await client.api.v2010.accounts(fake.accountSid).fetch()).status; // 'active'
 * (await client.incomingPhoneNumbers.list())[0].phoneNumber; // '+15550001111'
 * ```
 */
export async function startFakeTwilioAccount(options: FakeTwilioAccountOptions = {}): Promise<FakeTwilioAccount> {
  const accountSid = options.accountSid ?? `AC${randomBytes(16).toString('hex')}`;
  const authToken = options.authToken ?? randomBytes(16).toString('hex');
  const base = `/2010-04-01/Accounts/${accountSid}`;
  const authorized = (request: RecordedRequest): boolean => {
    const header = request.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return false;
    const [user, password] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
    return user === accountSid && password === authToken;
  };
  const server = await startFakeHttpServer({
    errorBody: (status) => twilioError(status, status * 100, 'Error'),
    route: (request) => {
      if (!request.path.startsWith('/2010-04-01/Accounts/')) return undefined;
      if (!authorized(request)) return { status: 401, body: twilioError(401, 20003, 'Authenticate') };
      if (request.method !== 'GET') return undefined;
      if (request.path === `${base}.json`) {
        const now = new Date().toUTCString();
        return {
          status: 200,
          body: {
            sid: accountSid,
            owner_account_sid: accountSid,
            friendly_name: options.friendlyName ?? 'Fake account',
            status: options.status ?? 'active',
            type: options.type ?? 'Full',
            date_created: now,
            date_updated: now,
            uri: `${base}.json`,
            subresource_uris: { incoming_phone_numbers: `${base}/IncomingPhoneNumbers.json` },
          },
        };
      }
      if (request.path === `${base}/IncomingPhoneNumbers.json`) {
        const pageSize = Math.min(1000, Number(request.query.PageSize ?? 50) || 50);
        const numbers = (options.numbers ?? []).slice(0, pageSize).map((n, i) => ({
          sid: `PN${String(i).padStart(32, '0')}`,
          account_sid: accountSid,
          phone_number: n.phoneNumber,
          friendly_name: n.phoneNumber,
          sms_url: n.smsUrl ?? null,
          sms_method: 'POST',
          status_callback: n.statusCallback ?? null,
          capabilities: { sms: true, voice: true, mms: false, fax: false },
          status: 'in-use',
          uri: `${base}/IncomingPhoneNumbers/PN${String(i).padStart(32, '0')}.json`,
        }));
        return {
          status: 200,
          body: {
            incoming_phone_numbers: numbers,
            page: 0,
            page_size: pageSize,
            first_page_uri: request.url,
            next_page_uri: null,
            previous_page_uri: null,
            uri: request.url,
            start: 0,
            end: numbers.length,
          },
        };
      }
      return { status: 404, body: twilioError(404, 20404, 'The requested resource was not found') };
    },
  });
  return { ...server, accountSid, authToken };
}
