// The Twilio form reader (src/http/form-body.ts) over real HTTP, side by side with
// express.urlencoded({ extended: false }), which it replaces on the webhook routes:
// - the bodies Twilio sends take the fast path (body-parser is not called), and give what
//   body-parser gives, for any mix of escapes, repeated and prototype-named fields, BOM and
//   invalid UTF-8 (property-based, fast-check);
// - every hostile-input guarantee holds on the fast path or by handing over to body-parser:
//   the size limit (413 problem+json), a wrong content type (no body read), an unsupported
//   charset (415), malformed percent-encoding (kept as sent), duplicate keys (an array),
//   `__proto__` and `constructor` (no prototype touched), too many fields (413), a client
//   that hangs up mid-body (no handler runs).
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { request as httpRequest, type Server } from 'node:http';
import express, { type Request, type RequestHandler } from 'express';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formBody } from '../../src/http/form-body.js';
import { problemErrorHandler } from '../../src/http/problem.js';

const limit = 64 * 1024;
const form = 'application/x-www-form-urlencoded';

interface Reply {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: string;
}

/** What a route saw of `req.body`: enough to tell apart every difference that matters downstream. */
function describeBody(req: Request): unknown {
  const body = (req as { body?: unknown }).body;
  if (body === undefined || body === null || typeof body !== 'object') return { body: String(body) };
  const prototype = Object.getPrototypeOf(body);
  return {
    prototype: prototype === Object.prototype ? 'Object.prototype' : prototype === null ? 'null' : 'other',
    own: Object.getOwnPropertyNames(body),
    entries: Object.entries(body),
  };
}

describe('formBody', () => {
  let server: Server;
  let port: number;
  let fallbackCalls = 0;
  let handled = 0;
  const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child: () => silent };

  beforeAll(async () => {
    const app = express();
    const bodyParser = express.urlencoded({ extended: false, limit: '64kb' });
    const countedFallback: RequestHandler = (req, res, next) => {
      fallbackCalls++;
      bodyParser(req, res, next);
    };
    const show: RequestHandler = (req, res) => {
      handled++;
      res.json(describeBody(req));
    };
    app.post('/lean', formBody({ limit, fallback: countedFallback }), show);
    app.post('/reference', bodyParser, show);
    app.use(problemErrorHandler(silent as never));
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    fallbackCalls = 0;
  });

  /** A POST with exactly these headers (Content-Length added unless chunked). */
  async function post(path: string, body: Buffer | string, headers: Record<string, string> = { 'content-type': form }, chunked = false): Promise<Reply> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, path, method: 'POST', headers: chunked ? headers : { ...headers, 'content-length': String(bytes.length) }, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode!, contentType: res.headers['content-type'], body: Buffer.concat(chunks).toString() }));
        },
      );
      req.on('error', reject);
      if (chunked) {
        // Two chunks, so the length is never declared.
        req.write(bytes.subarray(0, bytes.length >> 1));
        req.end(bytes.subarray(bytes.length >> 1));
      } else req.end(bytes);
    });
  }

  const both = async (body: Buffer | string, headers?: Record<string, string>, chunked?: boolean) => ({
    lean: await post('/lean', body, headers, chunked),
    reference: await post('/reference', body, headers, chunked),
  });

  const json = (reply: Reply) => JSON.parse(reply.body) as Record<string, unknown>;

  it("reads Twilio's form on the fast path, as body-parser reads it", async () => {
    const body = new URLSearchParams({
      ToCountry: 'US',
      SmsMessageSid: 'SM0123456789abcdef0123456789abcdef',
      Body: 'Leak under the sink, call me back! 😀 +1 & =',
      From: '+15551230001',
      To: '+15550000000',
      MessageSid: 'SM0123456789abcdef0123456789abcdef',
    }).toString();
    const { lean, reference } = await both(body, { 'content-type': `${form}; charset=UTF-8` });
    expect(lean.status).toBe(200);
    expect(lean.body).toBe(reference.body);
    expect(json(lean).entries).toContainEqual(['Body', 'Leak under the sink, call me back! 😀 +1 & =']);
    expect(fallbackCalls, 'body-parser was not called on /lean').toBe(0);
  });

  it('gives what body-parser gives for any escapes, repeats, prototype names, BOM and invalid UTF-8 (property-based)', async () => {
    const piece = fc.oneof(
      { weight: 4, arbitrary: fc.string({ maxLength: 6 }) },
      {
        weight: 6,
        arbitrary: fc.constantFrom(
          '%',
          '%2',
          '%20',
          '%41%ZZ',
          '%FF',
          '%E2%82',
          '%E2%82%AC',
          '%ED%A0%80',
          '%00',
          '%5B',
          '%3D',
          '%26',
          '+',
          '=',
          '==',
          '&',
          '&&',
          '__proto__',
          'constructor',
          'prototype',
          'hasOwnProperty',
          'toString',
          '[',
          ']',
          'a[b]',
          'From',
          'Body',
          'é',
          '😀',
          '\ud800',
        ),
      },
    );
    const raw = fc.oneof(
      { weight: 5, arbitrary: fc.array(piece, { maxLength: 20 }).map((parts) => Buffer.from(parts.join(''))) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)) },
    );
    const bom = fc.boolean();
    const type = fc.constantFrom(form, `${form}; charset=utf-8`, `${form};charset="UTF-8"`, 'Application/X-WWW-Form-Urlencoded');
    await fc.assert(
      fc.asyncProperty(raw, bom, type, async (bytes, withBom, contentType) => {
        const body = withBom ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]) : bytes;
        fallbackCalls = 0;
        const { lean, reference } = await both(body, { 'content-type': contentType });
        expect(fallbackCalls, 'the fast path read it').toBe(0);
        expect({ status: lean.status, body: lean.body }).toEqual({ status: reference.status, body: reference.body });
      }),
      { numRuns: 250 },
    );
  });

  it('size limit: the limit itself is read; one byte over, declared or chunked, is 413 problem+json', async () => {
    const filler = (n: number) => `a=${'x'.repeat(n - 2)}`;
    const atLimit = await post('/lean', filler(limit));
    expect(atLimit.status).toBe(200);
    expect(fallbackCalls).toBe(0);
    for (const chunked of [false, true]) {
      const over = await post('/lean', filler(limit + 1), { 'content-type': form, ...(chunked ? { 'transfer-encoding': 'chunked' } : {}) }, chunked);
      expect(over.status, `chunked: ${chunked}`).toBe(413);
      expect(over.contentType).toMatch(/^application\/problem\+json/);
    }
  });

  it('a wrong or missing content type: no body read, as body-parser; an unsupported charset: 415; ISO-8859-1 read as Latin-1', async () => {
    for (const contentType of ['text/plain', 'application/json', 'multipart/form-data; boundary=x', 'nonsense', undefined]) {
      const headers: Record<string, string> = contentType === undefined ? {} : { 'content-type': contentType };
      const { lean, reference } = await both('a=1', headers);
      expect(lean.status, contentType).toBe(200);
      expect(json(lean), contentType).toEqual({ body: 'undefined' });
      expect(lean.body).toBe(reference.body);
    }
    const utf16 = await post('/lean', 'a=1', { 'content-type': `${form}; charset=utf-16` });
    expect(utf16.status).toBe(415);
    expect(utf16.contentType).toMatch(/^application\/problem\+json/);
    const latin1 = await post('/lean', Buffer.from('a=caf%E9&b=\xe9', 'latin1'), { 'content-type': `${form}; charset=iso-8859-1` });
    expect(json(latin1).entries).toEqual([
      ['a', 'café'],
      ['b', 'é'],
    ]);
  });

  it('malformed percent-encoding is kept as sent, never a 400 or 500', async () => {
    const reply = await post('/lean', 'a=%41%ZZ&b=%FF&%ZZ=1&c=100%&d=%E2%82&e=a+%2');
    expect(reply.status).toBe(200);
    expect(fallbackCalls).toBe(0);
    expect(json(reply).entries).toEqual([
      ['a', '%41%ZZ'],
      ['b', '%FF'],
      ['%ZZ', '1'],
      ['c', '100%'],
      ['d', '%E2%82'],
      ['e', 'a %2'],
    ]);
  });

  it('a repeated field is an array of its values, in order', async () => {
    const reply = await post('/lean', 'From=%2B15551230001&Body=a&From=%2B15551230002&From=x');
    expect(fallbackCalls).toBe(0);
    expect(json(reply).entries).toEqual([
      ['From', ['+15551230001', '+15551230002', 'x']],
      ['Body', 'a'],
    ]);
  });

  it('__proto__ and constructor touch no prototype: __proto__ is dropped (repeated too), constructor is a plain field', async () => {
    // No brackets: the fast path (fast-querystring). A repeated __proto__ is an array, which assigned would become the prototype.
    const plain = await post('/lean', '__proto__=x&__proto__=y&%5F%5Fproto%5F%5F=z&constructor=c&constructor=d&toString=t&hasOwnProperty=h');
    expect(plain.status).toBe(200);
    expect(json(plain)).toEqual({
      prototype: 'Object.prototype',
      own: ['constructor', 'toString', 'hasOwnProperty'],
      entries: [
        ['constructor', ['c', 'd']],
        ['toString', 't'],
        ['hasOwnProperty', 'h'],
      ],
    });
    // Brackets: qs, as body-parser calls it.
    const bracketed = await post('/lean', '__proto__[polluted]=1&constructor[prototype][polluted]=1&[__proto__]=2&__proto__=3');
    expect(bracketed.status).toBe(200);
    expect(json(bracketed)).toEqual({
      prototype: 'Object.prototype',
      own: ['__proto__[polluted]', 'constructor[prototype][polluted]'],
      entries: [
        ['__proto__[polluted]', '1'],
        ['constructor[prototype][polluted]', '1'],
      ],
    });
    expect(fallbackCalls).toBe(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('more than 1000 fields is 413 problem+json before parsing; 1000 are read', async () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `f${i}=${i}`).join('&');
    const thousand = await post('/lean', fields(1000));
    expect(thousand.status).toBe(200);
    expect((json(thousand).entries as unknown[]).length).toBe(1000);
    for (const body of [fields(1001), '&'.repeat(5000)]) {
      const reply = await post('/lean', body);
      expect(reply.status).toBe(413);
      expect(reply.contentType).toMatch(/^application\/problem\+json/);
    }
    expect(fallbackCalls).toBe(0);
  });

  it('a client that hangs up mid-body: no handler runs, and the next request is served', async () => {
    const before = handled;
    await new Promise<void>((resolve) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        path: '/lean',
        method: 'POST',
        headers: { 'content-type': form, 'content-length': '100' },
        agent: false,
      });
      req.on('error', () => resolve());
      req.write('From=%2B1555', () => setTimeout(() => req.destroy(), 50));
      req.on('close', () => resolve());
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(handled).toBe(before);
    expect((await post('/lean', 'a=1')).status).toBe(200);
    expect(fallbackCalls).toBe(0);
  });
});
