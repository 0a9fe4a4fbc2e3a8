// A local server that speaks the Slack Web API as `@slack/web-api` uses it: POST
// {slackApiUrl}{method} with a form (or JSON) body and `Authorization: Bearer <token>`,
// answers `{ ok: true, ... }` or `{ ok: false, error }` with HTTP 200, and HTTP 429 with
// `Retry-After` when rate limited. Point the real SDK at it with
// `new WebClient(token, { slackApiUrl: fake.apiUrl })`.
import { randomBytes } from 'node:crypto';
import { startFakeHttpServer, type FakeHttpServer, type RecordedRequest } from './fake-http.js';

/** A message the fake accepted through `chat.postMessage`. */
export interface FakeSlackMessage {
  readonly channel: string;
  readonly ts: string;
  readonly text: string | undefined;
  /** `blocks`, parsed from the JSON string the SDK sends. */
  readonly blocks: unknown[] | undefined;
  /** `attachments`, parsed. */
  readonly attachments: unknown[] | undefined;
  /** Every field of the call, parsed. */
  readonly args: Record<string, unknown>;
  readonly request: RecordedRequest;
}

/** Options for {@link startFakeSlack}. */
export interface FakeSlackOptions {
  /** Tokens accepted; any other token gets `invalid_auth`. @default any token starting with `xox` */
  readonly tokens?: readonly string[];
  /** Channels that exist; others get `channel_not_found`. @default any */
  readonly channels?: readonly string[];
  /**
   * Enforce Slack's `chat.postMessage` limit of about one message per second per channel:
   * a post less than 900 ms after the previous one to the channel gets HTTP 429 with
   * `Retry-After: 1`. @default false
   */
  readonly enforcePostMessageRateLimit?: boolean;
}

/** The running fake. */
export interface FakeSlack extends FakeHttpServer {
  /** The `slackApiUrl` to give `WebClient`, e.g. `http://127.0.0.1:45123/api/`. */
  readonly apiUrl: string;
  /** Messages posted, in order. */
  readonly messages: FakeSlackMessage[];
  /** The next `times` calls get HTTP 429 with `Retry-After: seconds`. */
  rateLimit(seconds: number, times?: number): void;
  /** The next `times` calls of `method` answer `{ ok: false, error }` (HTTP 200). */
  failMethod(method: string, error: string, times?: number): void;
}

const jsonFields = new Set(['blocks', 'attachments', 'metadata']);

function parseArgs(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null) return {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (jsonFields.has(key) && typeof value === 'string') {
      try {
        out[key] = JSON.parse(value);
        continue;
      } catch {
        // keep the string
      }
    }
    out[key] = value;
  }
  return out;
}

/**
 * Starts a fake Slack Web API (`chat.postMessage`, `auth.test`) on 127.0.0.1.
 *
 * @param options - Accepted tokens and channels, rate limiting.
 * @returns The running fake.
 * @example
 * ```ts
 * const fake = await startFakeSlack();
 * const client = new WebClient('xoxb-test', { slackApiUrl: fake.apiUrl });
 * await client.chat.postMessage({ channel: '#alerts', text: 'hi' });
 * fake.messages[0].text; // 'hi'
 * ```
 */
export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const messages: FakeSlackMessage[] = [];
  const lastPostAt = new Map<string, number>();
  const methodFailures: Array<{ method: string; error: string; left: number }> = [];
  let tsCounter = 0;

  const tokenOf = (request: RecordedRequest, args: Record<string, unknown>): string | undefined => {
    const header = request.headers.authorization;
    if (header?.startsWith('Bearer ')) return header.slice(7);
    return typeof args.token === 'string' ? args.token : undefined;
  };

  const server = await startFakeHttpServer({
    errorBody: (status) => (status === 429 ? { ok: false, error: 'ratelimited' } : { ok: false, error: `http_${status}` }),
    route: (request) => {
      if (request.method !== 'POST' || !request.path.startsWith('/api/')) return undefined;
      const method = request.path.slice('/api/'.length);
      const args = parseArgs(request.body);
      const token = tokenOf(request, args);
      if (token === undefined) return { status: 200, body: { ok: false, error: 'not_authed' } };
      const tokenOk = options.tokens === undefined ? token.startsWith('xox') : options.tokens.includes(token);
      if (!tokenOk) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
      const failure = methodFailures.find((f) => f.method === method && f.left > 0);
      if (failure !== undefined) {
        failure.left--;
        return { status: 200, body: { ok: false, error: failure.error } };
      }
      switch (method) {
        case 'auth.test':
          return {
            status: 200,
            body: { ok: true, url: 'https://fake.slack.com/', team: 'Fake', user: 'alerts-bot', team_id: 'T0FAKE', user_id: 'U0FAKE', bot_id: 'B0FAKE' },
          };
        case 'chat.postMessage': {
          const channel = typeof args.channel === 'string' ? args.channel : undefined;
          if (channel === undefined || channel === '') return { status: 200, body: { ok: false, error: 'channel_not_found' } };
          if (options.channels !== undefined && !options.channels.includes(channel)) return { status: 200, body: { ok: false, error: 'channel_not_found' } };
          const text = typeof args.text === 'string' ? args.text : undefined;
          const blocks = Array.isArray(args.blocks) ? (args.blocks as unknown[]) : undefined;
          if (text === undefined && blocks === undefined && args.attachments === undefined) return { status: 200, body: { ok: false, error: 'no_text' } };
          if (options.enforcePostMessageRateLimit) {
            const last = lastPostAt.get(channel);
            // 100 ms of slack for network jitter: Slack itself tolerates short bursts.
            if (last !== undefined && request.receivedAt - last < 900) {
              return { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'Retry-After': '1' } };
            }
            lastPostAt.set(channel, request.receivedAt);
          }
          const ts = `${Math.floor(Date.now() / 1000)}.${String(++tsCounter).padStart(6, '0')}`;
          messages.push({
            channel,
            ts,
            text,
            blocks,
            attachments: Array.isArray(args.attachments) ? (args.attachments as unknown[]) : undefined,
            args,
            request,
          });
          return {
            status: 200,
            body: {
              ok: true,
              channel: channel.startsWith('#') ? `C${randomBytes(4).toString('hex').toUpperCase()}` : channel,
              ts,
              message: { type: 'message', text, user: 'U0FAKE', ts, blocks },
            },
          };
        }
        default:
          return { status: 200, body: { ok: false, error: 'unknown_method' } };
      }
    },
  });

  return {
    ...server,
    apiUrl: `${server.url}/api/`,
    messages,
    rateLimit: (seconds, times = 1) => {
      server.fail({ status: 429, headers: { 'Retry-After': String(seconds) }, body: { ok: false, error: 'ratelimited' }, times });
    },
    failMethod: (method, error, times = 1) => {
      methodFailures.push({ method, error, left: times });
    },
  };
}
