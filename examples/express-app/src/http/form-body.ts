import type { Request, RequestHandler } from 'express';
import express from 'express';
import { parse as parseQueryString } from 'fast-querystring';
import qs from 'qs';

/** Options of {@link formBody}. */
export interface FormBodyOptions {
  /**
   * Largest body read, in bytes: a longer declared one goes to `fallback`, which answers it 413.
   * @default 65_536 (64 KB, Twilio's forms are a few hundred bytes)
   */
  readonly limit?: number;
  /**
   * Most fields a form may have: more is refused with 413 (`too many parameters`), as
   * body-parser does.
   * @default 1000 (body-parser's default)
   */
  readonly parameterLimit?: number;
  /**
   * Reads every request the fast path does not take: any other content type or charset, a
   * compressed or chunked body, one declared over `limit`, a request already read.
   * @default express.urlencoded({ extended: false, limit, parameterLimit })
   */
  readonly fallback?: RequestHandler;
}

const defaults = { limit: 64 * 1024, parameterLimit: 1000 };

// The content types the fast path reads: a form, in UTF-8 (stated or not). Anything else,
// even a form with another parameter, is left to body-parser, whose rules it then keeps.
const plainForm = /^application\/x-www-form-urlencoded[ \t]*(?:;[ \t]*charset=(?:utf-8|"utf-8")[ \t]*)?$/i;

/** An error the problem handler maps as it maps body-parser's (`status`, `type`, `expose`). */
function httpError(status: number, message: string, type: string): Error {
  return Object.assign(new Error(message), { status, statusCode: status, type, expose: true });
}

// qs reads brackets even at depth 0 (`[x]=1` is `x`, `[]=1` is `0`, `%5B` is `[` before
// anything is decoded): a body with any is parsed by qs itself, as body-parser calls it.
const bracket = /[[\]]|%5[bd]/i;

/**
 * The fields of a form body exactly as `express.urlencoded({ extended: false })` gives them:
 * a plain object, a repeated field as an array of its values, a field without `=` as `''`,
 * fields with an empty name and `__proto__` left out, a malformed percent-escape kept as
 * sent (with `+` still read as a space). A body without brackets (every form Twilio sends)
 * is parsed by fast-querystring; one with brackets by qs with body-parser's options.
 *
 * @param text - The decoded body.
 * @param parameterLimit - Most fields accepted.
 * @returns The fields.
 * @throws An error with `status` 413 (`parameters.too.many`) past `parameterLimit` fields.
 * @example
 * ```ts
 * parseForm('From=%2B15551230001&Body=Hi+there', 1000); // { From: '+15551230001', Body: 'Hi there' }
 * ```
 */
export function parseForm(text: string, parameterLimit: number): Record<string, string | string[]> {
  if (text.length === 0) return {};
  // Counted before parsing, as body-parser counts them: a body of 100,000 `&` costs no parse.
  let count = 1;
  for (let at = text.indexOf('&'); at !== -1; at = text.indexOf('&', at + 1)) {
    if (++count > parameterLimit) throw httpError(413, 'too many parameters', 'parameters.too.many');
  }
  if (bracket.test(text)) {
    // body-parser 2.4's call for `extended: false` (lib/types/urlencoded.js); depth 0 cannot throw its RangeError.
    return qs.parse(text, { allowPrototypes: true, arrayLimit: count, depth: 0, charset: 'utf-8', parameterLimit, strictDepth: true }) as Record<
      string,
      string | string[]
    >;
  }
  // fast-querystring's result has no prototype (a `__proto__` field is a field there). Copied
  // into a plain object, as qs gives it, with the fields qs drops dropped: assigning
  // `__proto__` would set the prototype.
  const fields: Record<string, string | string[]> = {};
  const parsed = parseQueryString(text) as Record<string, string | string[]>;
  for (const key in parsed) {
    if (key === '' || key === '__proto__') continue;
    fields[key] = parsed[key]!;
  }
  return fields;
}

/**
 * Reads `application/x-www-form-urlencoded` bodies (Twilio's webhooks) into `req.body`, as
 * `express.urlencoded({ extended: false })` does, with less work per request for the one
 * shape Twilio sends: a UTF-8 form with a declared length within `limit`, read in one piece
 * and parsed by fast-querystring ({@link parseForm}). Every other request goes to
 * `fallback` (body-parser itself), so a wrong content type, an unsupported charset (415),
 * a compressed or chunked body, a body over the limit (413) get body-parser's answer, and
 * errors reach the problem handler as body-parser's do.
 *
 * Why: on `pnpm bench:app`, body-parser's urlencoded path (type-is, raw-body with its
 * iconv decoder stream, qs) was about 6 % of the app's busy time on `POST /sms`
 * (app README, "Benchmark: what each request costs").
 *
 * @param options - See {@link FormBodyOptions}.
 * @returns The middleware.
 * @example
 * ```ts
 * app.use(['/sms', '/api/twilio'], formBody({ limit: 64 * 1024 }));
 * ```
 */
export function formBody(options: FormBodyOptions = {}): RequestHandler {
  const { limit = defaults.limit, parameterLimit = defaults.parameterLimit } = options;
  const fallback = options.fallback ?? express.urlencoded({ extended: false, limit, parameterLimit });
  return (req, res, next) => {
    const length = declaredLength(req);
    if (length === undefined || length > limit || !isPlainForm(req) || req.complete || req.readableEnded) {
      fallback(req, res, next);
      return;
    }
    readBody(req, length, (error, body) => {
      if (error !== undefined) {
        next(error);
        return;
      }
      try {
        // Decoded as body-parser's UTF-8 decoder does: invalid bytes become U+FFFD, a leading BOM goes.
        const text = body!.toString('utf8');
        req.body = parseForm(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, parameterLimit);
      } catch (parseError) {
        next(parseError);
        return;
      }
      next();
    });
  };
}

/** The declared body length when it is the only framing (no `Transfer-Encoding`), else undefined. */
function declaredLength(req: Request): number | undefined {
  const header = req.headers['content-length'];
  if (header === undefined || req.headers['transfer-encoding'] !== undefined) return undefined;
  const length = Number(header);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

function isPlainForm(req: Request): boolean {
  const type = req.headers['content-type'];
  if (type === undefined || !plainForm.test(type)) return false;
  const encoding = req.headers['content-encoding'];
  return encoding === undefined || encoding.toLowerCase() === 'identity';
}

/**
 * Reads exactly `length` bytes. A connection that ends first (the client gone) fails with
 * 400 `request aborted`, as raw-body does; Node's HTTP parser never passes on more bytes
 * than the declared length.
 */
function readBody(req: Request, length: number, done: (error: Error | undefined, body?: Buffer) => void): void {
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  let received = 0;
  let finished = false;
  // The first outcome wins; the listeners stay (the request is dropped with them) and ignore
  // what comes after it.
  const finish = (error: Error | undefined, body?: Buffer) => {
    if (finished) return;
    finished = true;
    done(error, body);
  };
  const onData = (chunk: Buffer) => {
    if (finished) return;
    received += chunk.length;
    if (received > length) {
      finish(httpError(400, 'request size did not match content length', 'request.size.invalid'));
      return;
    }
    if (first === undefined) first = chunk;
    else (chunks ??= [first]).push(chunk);
  };
  const onEnd = () => {
    if (received !== length) finish(httpError(400, 'request size did not match content length', 'request.size.invalid'));
    else finish(undefined, chunks === undefined ? (first ?? Buffer.alloc(0)) : Buffer.concat(chunks, received));
  };
  // Every request closes, after its body was read: the error (and its stack trace, 2 % of
  // the app's busy time on `pnpm bench:app` when it was built on every close) only when it applies.
  const onClose = () => {
    if (!finished) finish(httpError(400, 'request aborted', 'request.aborted'));
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onClose);
  req.on('close', onClose);
}
