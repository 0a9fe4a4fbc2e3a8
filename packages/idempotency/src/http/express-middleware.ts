import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { IdempotencyKeyHandler, type IdempotencyKeyOptions } from './idempotency-key-handler.js';
import type { HttpResponseSnapshot } from './problem-details.js';

/** The slice of Express's `req` the middleware reads. */
export interface ExpressLikeRequest {
  /** HTTP method. */
  readonly method: string;
  /** Path and query (relative to the router's mount point in Express). */
  readonly url: string;
  /** Path and query as the client sent them (Express). */
  readonly originalUrl?: string;
  /** Request headers, names in lower case. */
  readonly headers: IncomingHttpHeaders;
  /** The parsed body, when a body parser ran. */
  readonly body?: unknown;
}

type WriteCallback = (error?: Error | null) => void;

/** The slice of Express's (and Node's) `res` the middleware uses. */
export interface ExpressLikeResponse {
  /** Status code to send. */
  statusCode: number;
  /** Writes a body chunk (buffered by the middleware while a guarded request runs). */
  write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean;
  /** Ends the response (recorded by the middleware before it is sent). */
  end(chunk?: unknown, encoding?: unknown, callback?: unknown): unknown;
  /** Sets a response header. */
  setHeader(name: string, value: string | number | readonly string[]): unknown;
  /** The headers set so far. */
  getHeaders(): OutgoingHttpHeaders;
}

/** An Express middleware function. */
export type ExpressMiddleware = (req: ExpressLikeRequest, res: ExpressLikeResponse, next: (error?: unknown) => void) => void;

function toBuffer(chunk: unknown, encoding: unknown): Buffer {
  if (chunk === undefined || chunk === null) return Buffer.alloc(0);
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return Buffer.from(chunk as Uint8Array);
}

function headersOf(res: ExpressLikeResponse): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(res.getHeaders())) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return out;
}

/**
 * Runs the rest of the chain and buffers what it writes instead of sending it, so the
 * response can be recorded before the client sees it. `flush` sends the buffered response.
 *
 * A client that disconnects does not end the capture: the handler keeps running (Express
 * does not stop it), so its answer is recorded for the client's retry instead of the key
 * being released while the work goes on, which would let the retry run it a second time.
 */
function capture(res: ExpressLikeResponse, next: () => void): { response: Promise<HttpResponseSnapshot>; flush(): void; restore(): void } {
  // Kept only to be put back on the same response (restore), never called unbound.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const originalWrite = res.write;
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const originalEnd = res.end;
  const chunks: Buffer[] = [];
  const callbacks: WriteCallback[] = [];
  let body: Buffer | undefined;
  const restore = () => {
    res.write = originalWrite;
    res.end = originalEnd;
  };
  const response = new Promise<HttpResponseSnapshot>((resolve) => {
    res.write = (chunk: unknown, encoding?: unknown, callback?: unknown) => {
      if (typeof encoding === 'function') callbacks.push(encoding as WriteCallback);
      else if (typeof callback === 'function') callbacks.push(callback as WriteCallback);
      chunks.push(toBuffer(chunk, encoding));
      return true;
    };
    res.end = (chunk?: unknown, encoding?: unknown, callback?: unknown) => {
      if (typeof chunk === 'function') callbacks.push(chunk as WriteCallback);
      else {
        if (typeof encoding === 'function') callbacks.push(encoding as WriteCallback);
        else if (typeof callback === 'function') callbacks.push(callback as WriteCallback);
        chunks.push(toBuffer(chunk, encoding));
      }
      body = Buffer.concat(chunks);
      resolve({ status: res.statusCode, headers: headersOf(res), body });
      return res;
    };
  });
  next();
  return {
    response,
    restore,
    flush: () => {
      restore();
      const pending = callbacks.splice(0);
      res.end(body ?? Buffer.alloc(0), () => pending.forEach((cb) => cb()));
    },
  };
}

function send(res: ExpressLikeResponse, response: HttpResponseSnapshot): void {
  res.statusCode = response.status;
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  res.end(Buffer.from(response.body));
}

/**
 * Express middleware for the `Idempotency-Key` header (IETF httpapi draft), a thin adapter
 * over {@link IdempotencyKeyHandler}. Mount it after your body parser (the body is part of
 * the payload fingerprint) and before the routes it protects. Guarded responses are
 * buffered until recorded, so do not stream from guarded routes.
 *
 * @param options - See {@link IdempotencyKeyOptions}.
 * @returns The middleware.
 * @throws TypeError naming the first invalid option.
 * @example
 * ```ts
 * import express from 'express';
 * import { Redis } from 'ioredis';
 * import { createRedisStore, idempotencyKeyMiddleware } from '@hardening/idempotency';
 *
 * const app = express();
 * app.use(express.json());
 * app.post('/v1/messages', idempotencyKeyMiddleware({ store: createRedisStore({ redis: new Redis() }) }), async (req, res) => {
 *   res.status(201).json(await sendMessage(req.body));
 * });
 * ```
 */
export function idempotencyKeyMiddleware(options: IdempotencyKeyOptions): ExpressMiddleware {
  const handler = new IdempotencyKeyHandler(options);
  return (req, res, next) => {
    const request = { method: req.method, url: req.originalUrl ?? req.url, headers: req.headers, body: req.body };
    if (!handler.appliesTo(request)) {
      next();
      return;
    }
    let captured: ReturnType<typeof capture> | undefined;
    handler
      .handle(request, () => {
        captured = capture(res, next);
        return captured.response;
      })
      .then(
        ({ response, outcome }) => {
          if (outcome === 'executed' && captured !== undefined) captured.flush();
          else send(res, response);
        },
        (error: unknown) => {
          captured?.restore();
          next(error);
        },
      );
  };
}
