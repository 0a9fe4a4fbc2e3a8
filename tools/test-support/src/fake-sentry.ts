// A local server that ingests Sentry envelopes the way sentry.io does for the real
// `@sentry/node` SDK: POST /api/{project}/envelope/ with the key in the `sentry_key` query
// parameter or the `X-Sentry-Auth` header, an envelope body (header line, then item header
// and payload pairs; gzip allowed), answering 200 `{ id }`. Point the SDK at it with the
// DSN `fake.dsn`.
import { randomBytes } from 'node:crypto';
import { startFakeHttpServer, type FakeHttpServer, type RecordedRequest } from './fake-http.js';

/** One item of an envelope. */
export interface EnvelopeItem {
  readonly header: Record<string, unknown>;
  /** The payload, parsed as JSON when it is JSON, else the raw text. */
  readonly payload: unknown;
}

/** One envelope the fake received. */
export interface FakeSentryEnvelope {
  readonly header: Record<string, unknown>;
  readonly items: EnvelopeItem[];
  readonly request: RecordedRequest;
}

/** Options for {@link startFakeSentry}. */
export interface FakeSentryOptions {
  /** The public key of the DSN. @default random hex */
  readonly publicKey?: string;
  /** The project id of the DSN. @default '1' */
  readonly projectId?: string;
}

/** The running fake. */
export interface FakeSentry extends FakeHttpServer {
  /** A DSN for `Sentry.init({ dsn })` that sends to this server. */
  readonly dsn: string;
  /** Envelopes received (and accepted), in order. */
  readonly envelopes: FakeSentryEnvelope[];
  /** The payloads of every `event` item received. */
  events(): Array<Record<string, unknown>>;
}

/**
 * Parses Sentry's envelope format: a JSON header line, then items, each a JSON header
 * line and a payload that is `length` bytes long when the header says so, else one line.
 *
 * @param raw - The (decompressed) body.
 * @returns The envelope header and items.
 */
export function parseEnvelope(raw: Buffer): { header: Record<string, unknown>; items: EnvelopeItem[] } {
  let offset = 0;
  const readLine = (): string | undefined => {
    if (offset >= raw.length) return undefined;
    let end = raw.indexOf(0x0a, offset);
    if (end === -1) end = raw.length;
    const line = raw.subarray(offset, end).toString('utf8');
    offset = end + 1;
    return line;
  };
  const header = JSON.parse(readLine() ?? '{}') as Record<string, unknown>;
  const items: EnvelopeItem[] = [];
  for (;;) {
    const line = readLine();
    if (line === undefined) break;
    if (line.trim() === '') continue;
    const itemHeader = JSON.parse(line) as Record<string, unknown>;
    let payloadText: string;
    if (typeof itemHeader.length === 'number') {
      payloadText = raw.subarray(offset, offset + itemHeader.length).toString('utf8');
      offset += itemHeader.length;
      if (raw[offset] === 0x0a) offset++;
    } else {
      payloadText = readLine() ?? '';
    }
    let payload: unknown = payloadText;
    try {
      payload = JSON.parse(payloadText);
    } catch {
      // not JSON (an attachment): keep the text
    }
    items.push({ header: itemHeader, payload });
  }
  return { header, items };
}

function keyOf(request: RecordedRequest): string | undefined {
  if (request.query.sentry_key) return request.query.sentry_key;
  const auth = request.headers['x-sentry-auth'];
  const match = typeof auth === 'string' ? /sentry_key=([^,\s]+)/.exec(auth) : null;
  return match?.[1];
}

/**
 * Starts a fake Sentry envelope endpoint on 127.0.0.1.
 *
 * @param options - DSN parts.
 * @returns The running fake.
 * @example
 * ```ts
 * const fake = await startFakeSentry();
 * Sentry.init({ dsn: fake.dsn });
 * Sentry.captureMessage('hello');
 * await Sentry.flush(2000);
 * fake.events()[0].message; // 'hello'
 * ```
 */
export async function startFakeSentry(options: FakeSentryOptions = {}): Promise<FakeSentry> {
  const publicKey = options.publicKey ?? randomBytes(16).toString('hex');
  const projectId = options.projectId ?? '1';
  const envelopes: FakeSentryEnvelope[] = [];

  const server = await startFakeHttpServer({
    errorBody: (status) => ({ detail: status === 429 ? 'Event dropped due to rate limiting' : `error ${status}` }),
    route: (request) => {
      const match = /^\/api\/([^/]+)\/envelope\/?$/.exec(request.path);
      if (request.method !== 'POST' || match === null) return undefined;
      if (match[1] !== projectId) return { status: 404, body: { detail: 'project not found' } };
      if (keyOf(request) !== publicKey) return { status: 401, body: { detail: 'Invalid api key' } };
      let parsed: ReturnType<typeof parseEnvelope>;
      try {
        parsed = parseEnvelope(request.rawBody);
      } catch (error) {
        return { status: 400, body: { detail: `invalid envelope: ${String(error)}` } };
      }
      envelopes.push({ ...parsed, request });
      return { status: 200, body: { id: parsed.header.event_id ?? null } };
    },
  });
  const { port } = server;

  return {
    ...server,
    dsn: `http://${publicKey}@127.0.0.1:${port}/${projectId}`,
    envelopes,
    events: () =>
      envelopes.flatMap((envelope) => envelope.items.filter((item) => item.header.type === 'event').map((item) => item.payload as Record<string, unknown>)),
  };
}
