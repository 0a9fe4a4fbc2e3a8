import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '@hardening/core';

/** Options of {@link requestLog}. */
export interface RequestLogOptions {
  /**
   * Requests that get no line (their id and `X-Request-Id` header all the same).
   * @default none: every request is logged
   */
  readonly ignore?: (req: Request) => boolean;
}

/**
 * One `info` line per request when its response ends, in the shape pino-http wrote it
 * (`req: { id, method, url }`, `res: { statusCode }`, `responseTime` in ms; `request
 * completed`, `request aborted` when the client went away first, `request errored` with
 * `err` for a 5xx), and the request id: the caller's `X-Request-Id` (the chaos harness
 * pairs its deliveries with the app's lines by it) or a random UUID, echoed in the
 * response's `X-Request-Id` and kept as `req.id`.
 *
 * Why not pino-http: it makes a child logger per request, its `req` binding built by
 * pino-std-serializers' full request mapping (every header) before our serializer cut it
 * down, then redacted and stringified, plus three listeners. On `POST /sms` under `pnpm
 * bench:app` that was about 7 % of the app's busy time; this line is the same JSON for a
 * fraction of it (the figures are in the app README, "Benchmark: what each request costs").
 *
 * @param logger - Where the lines go (`info`).
 * @param options - Requests to leave out (health probes).
 * @returns The middleware; mount it first, so its clock and id cover every other one.
 * @example
 * ```ts
 * app.use(requestLog(ctx.logger, { ignore: (req) => req.url.startsWith('/health') }));
 * ```
 */
export function requestLog(logger: Logger, options: RequestLogOptions = {}): RequestHandler {
  const { ignore } = options;
  const lines = { errored: logger, plain: withoutRedaction(logger) };
  return (req, res, next) => {
    const id = (req.headers['x-request-id'] as string | undefined) ?? randomUUID();
    (req as Request & { id?: string }).id = id;
    res.setHeader('X-Request-Id', id);
    if (ignore?.(req) !== true) {
      const startedAt = Date.now();
      let written = false;
      // 'close' ends every response, finished or not (Node emits it after 'finish'); an
      // 'error' may come first and carries the error. The first of the two writes the line,
      // and the listeners stay: the response is dropped with them.
      const done = (error?: Error) => {
        if (written) return;
        written = true;
        writeLine(lines, req, res, id, Date.now() - startedAt, error);
      };
      res.on('close', done);
      res.on('error', done);
    }
    next();
  };
}

/**
 * A pino logger's child without the redaction paths (pino's `child(bindings, { redact })`),
 * for the lines whose every field is set here: an id, a method, a path, a status and a time.
 * Redaction clones and walks each object its paths could match, wildcards included: 7-9 µs a
 * line against 2 µs without (pino 10, this line, 200,000 calls). Other loggers as they are.
 */
function withoutRedaction(logger: Logger): Logger {
  const withOptions = logger as { child?(bindings: object, options: { redact: string[] }): Logger };
  return withOptions.child?.({}, { redact: [] }) ?? logger;
}

/** The request log's two loggers: the lines of an error (`err`) keep the redaction. */
interface RequestLines {
  readonly errored: Logger;
  readonly plain: Logger;
}

function writeLine(lines: RequestLines, req: Request, res: Response, id: string, responseTime: number, error: Error | undefined): void {
  // `originalUrl`: a router mounted on a path rewrites `req.url` before the response ends.
  const url = req.originalUrl;
  const query = url.indexOf('?');
  const fields = { req: { id, method: req.method, url: query === -1 ? url : url.slice(0, query) }, res: { statusCode: res.statusCode } };
  if (error !== undefined || res.statusCode >= 500) {
    lines.errored.info({ ...fields, err: error ?? new Error(`failed with status code ${res.statusCode}`), responseTime }, 'request errored');
    return;
  }
  lines.plain.info({ ...fields, responseTime }, !req.readableAborted && res.writableEnded ? 'request completed' : 'request aborted');
}
