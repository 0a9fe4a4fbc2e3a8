// The machinery every fake provider server shares: a real HTTP server on 127.0.0.1 that
// records each request (with its parsed body) and can be told to fail: a status code with
// the provider's own error body, a delay, a hang (no answer until the server closes), or
// a dropped connection. Each fake (Twilio, Slack, Sentry, PagerDuty) adds its routes.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';

/** One request a fake received, as parsed. */
export interface RecordedRequest {
  /** HTTP method. */
  readonly method: string;
  /** Path without the query string, e.g. `/api/chat.postMessage`. */
  readonly path: string;
  /** Path with the query string. */
  readonly url: string;
  /** Query parameters (last value wins). */
  readonly query: Record<string, string>;
  /** Request headers, lower-case names. */
  readonly headers: IncomingHttpHeaders;
  /** Body bytes as received, decompressed when sent gzipped or deflated. */
  readonly rawBody: Buffer;
  /**
   * The body parsed by its content type: form bodies to an object of strings (a repeated
   * field becomes an array), JSON to its value, anything else to a string.
   */
  readonly body: unknown;
  /** `Date.now()` when the body was complete. */
  readonly receivedAt: number;
  /** What the fake answered (status), or `undefined` while it hangs or when it dropped the connection. */
  status?: number;
}

/** A failure (or slowness) to apply to upcoming requests. */
export interface FaultSpec {
  /** Only requests this matches are affected (others pass through). Default: all. */
  readonly match?: (request: RecordedRequest) => boolean;
  /** How many matching requests to affect. @default 1 */
  readonly times?: number;
  /** Answer with this status (and the fake's error body for it, unless `body` is given). */
  readonly status?: number;
  /** Body to answer with: an object is sent as JSON. */
  readonly body?: unknown;
  /** Extra response headers, e.g. `{ 'Retry-After': '2' }`. */
  readonly headers?: Record<string, string>;
  /** Wait this long before answering (with the fault, or normally when no status is set). */
  readonly delayMs?: number;
  /** Never answer: the socket stays open until the server closes. */
  readonly hang?: boolean;
  /** Destroy the connection without an answer. */
  readonly reset?: boolean;
}

/** What a route answers. */
export interface FakeResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** A fake's route table: return `undefined` for "not mine" (404). */
export type FakeRoute = (request: RecordedRequest) => FakeResponse | undefined | Promise<FakeResponse | undefined>;

/** A running fake server. */
export interface FakeHttpServer {
  /** Base URL, e.g. `http://127.0.0.1:45123` (no trailing slash). */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Queues a failure for upcoming requests; several queued specs apply in order. */
  fail(spec: FaultSpec): void;
  /** Drops queued failures. */
  clearFaults(): void;
  /** Forgets recorded requests. */
  clearRequests(): void;
  /** Resolves once `predicate` holds for the recorded requests (polling). */
  waitFor(predicate: (requests: readonly RecordedRequest[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Closes the server and every open connection (hanging requests included). */
  close(): Promise<void>;
}

/** Options for {@link startFakeHttpServer}. */
export interface FakeHttpServerOptions {
  /** The provider's routes. */
  readonly route: FakeRoute;
  /** The provider's error body for a status the test injects with {@link FakeHttpServer.fail}. */
  readonly errorBody?: (status: number, request: RecordedRequest) => unknown;
  /** Port to listen on. @default 0 (any free port) */
  readonly port?: number;
}

function parseBody(raw: Buffer, contentType: string | undefined): unknown {
  const text = raw.toString('utf8');
  const type = (contentType ?? '').toLowerCase();
  if (type.includes('application/x-www-form-urlencoded')) {
    const out: Record<string, string | string[]> = {};
    for (const [key, value] of new URLSearchParams(text)) {
      const previous = out[key];
      if (previous === undefined) out[key] = value;
      else out[key] = Array.isArray(previous) ? [...previous, value] : [previous, value];
    }
    return out;
  }
  if (type.includes('json') && text.length > 0) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function decode(raw: Buffer, encoding: string | undefined): Buffer {
  if (encoding === 'gzip') return gunzipSync(raw);
  if (encoding === 'deflate') return inflateSync(raw);
  return raw;
}

function send(res: ServerResponse, response: FakeResponse): void {
  const headers: Record<string, string> = { ...response.headers };
  let payload: string | Buffer = '';
  if (response.body !== undefined) {
    if (typeof response.body === 'string' || Buffer.isBuffer(response.body)) {
      payload = response.body;
    } else {
      payload = JSON.stringify(response.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
    }
  }
  res.writeHead(response.status, headers);
  res.end(payload);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a recording HTTP server on 127.0.0.1 with the given routes. The provider fakes
 * build on it; use it directly for a generic webhook receiver.
 *
 * @param options - Routes, the provider's error body, port.
 * @returns The running server.
 */
export async function startFakeHttpServer(options: FakeHttpServerOptions): Promise<FakeHttpServer> {
  const requests: RecordedRequest[] = [];
  const faults: Array<{ spec: FaultSpec; left: number }> = [];
  const sockets = new Set<Socket>();

  const takeFault = (request: RecordedRequest): FaultSpec | undefined => {
    for (const fault of faults) {
      if (fault.left > 0 && (fault.spec.match === undefined || fault.spec.match(request))) {
        fault.left--;
        if (fault.left === 0) faults.splice(faults.indexOf(fault), 1);
        return fault.spec;
      }
    }
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const parsedUrl = new URL(req.url ?? '/', 'http://fake.local');
    let rawBody: Buffer;
    try {
      rawBody = decode(Buffer.concat(chunks), req.headers['content-encoding']);
    } catch {
      rawBody = Buffer.concat(chunks);
    }
    const request: RecordedRequest = {
      method: req.method ?? 'GET',
      path: parsedUrl.pathname,
      url: `${parsedUrl.pathname}${parsedUrl.search}`,
      query: Object.fromEntries(parsedUrl.searchParams),
      headers: req.headers,
      rawBody,
      body: parseBody(rawBody, req.headers['content-type']),
      receivedAt: Date.now(),
    };
    requests.push(request);
    const fault = takeFault(request);
    if (fault?.hang) return; // the socket is destroyed by close()
    if (fault?.reset) {
      req.socket.destroy();
      return;
    }
    if (fault?.delayMs !== undefined) await sleep(fault.delayMs);
    if (fault?.status !== undefined) {
      const body = fault.body !== undefined ? fault.body : options.errorBody?.(fault.status, request);
      request.status = fault.status;
      send(res, { status: fault.status, body, ...(fault.headers !== undefined ? { headers: fault.headers } : {}) });
      return;
    }
    let response: FakeResponse | undefined;
    try {
      response = await options.route(request);
    } catch (error) {
      response = { status: 500, body: { error: error instanceof Error ? error.message : String(error) } };
    }
    response ??= { status: 404, body: options.errorBody?.(404, request) ?? { error: 'not found' } };
    request.status = response.status;
    send(res, { ...response, headers: { ...response.headers, ...fault?.headers } });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) send(res, { status: 500, body: { error: String(error) } });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    fail: (spec) => {
      faults.push({ spec, left: spec.times ?? 1 });
    },
    clearFaults: () => {
      faults.length = 0;
    },
    clearRequests: () => {
      requests.length = 0;
    },
    waitFor: async (predicate, timeoutMs = 5000) => {
      const until = Date.now() + timeoutMs;
      while (!predicate(requests)) {
        if (Date.now() > until) throw new Error(`fake server at port ${port}: condition not met within ${timeoutMs} ms (${requests.length} requests)`);
        await sleep(10);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
