// The request log line (src/http/request-log.ts) over real HTTP: one `info` line per request
// in the shape pino-http wrote, the request id from X-Request-Id (the chaos harness pairs its
// deliveries with the app's lines by it) or a fresh UUID, echoed in the response.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { request as httpRequest, type Server } from 'node:http';
import express from 'express';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requestLog } from '../../src/http/request-log.js';

interface Line {
  readonly fields: Record<string, unknown>;
  readonly msg: string | undefined;
}

/** `app` on a loopback port: its port, base URL, and a close that ends kept-alive connections too. */
async function listenOnLoopback(app: express.Express): Promise<{ port: number; base: string; close: () => Promise<void> }> {
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return { port, base: `http://127.0.0.1:${port}`, close };
}

describe('requestLog', () => {
  const lines: Line[] = [];
  const record = (fields: object, msg?: string) => void lines.push({ fields: fields as Record<string, unknown>, msg });
  const logger = { debug: record, info: record, warn: record, error: record };
  let base: string;
  let port: number;
  let close: () => Promise<void>;
  let slowReached = false;

  beforeAll(async () => {
    const app = express();
    app.use(requestLog(logger, { ignore: (req) => req.url.startsWith('/health') }));
    app.get('/health/live', (_req, res) => void res.send('ok'));
    app.post('/sms', (_req, res) => void res.type('text/xml').send('<Response/>'));
    app.use(
      '/mounted',
      express.Router().get('/thing', (_req, res) => void res.send('thing')),
    );
    app.get('/boom', (_req, res) => void res.status(503).send('down'));
    // Never answers: the client hangs up first.
    app.get('/slow', () => {
      slowReached = true;
    });
    ({ port, base, close } = await listenOnLoopback(app));
  });
  afterAll(() => close());
  beforeEach(() => {
    lines.length = 0;
  });

  /** Resolves once `n` lines are there (the line is written when the response ends, after the client may have read it). */
  async function lineCount(n: number): Promise<Line[]> {
    const until = Date.now() + 5000;
    while (lines.length < n && Date.now() < until) await new Promise((resolve) => setImmediate(resolve));
    // One more turn: a second line for the same request would show now.
    await new Promise((resolve) => setTimeout(resolve, 20));
    return [...lines];
  }

  it('writes one line per request, with the caller’s X-Request-Id, echoed, and the path without its query', async () => {
    const response = await fetch(`${base}/sms?token=secret`, { method: 'POST', headers: { 'x-request-id': 'ev-1:first:0' }, body: 'Body=hi' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('ev-1:first:0');
    const [line, ...more] = await lineCount(1);
    expect(more).toEqual([]);
    expect(line!.msg).toBe('request completed');
    expect(line!.fields).toEqual({ req: { id: 'ev-1:first:0', method: 'POST', url: '/sms' }, res: { statusCode: 200 }, responseTime: expect.any(Number) });
    expect(JSON.stringify(line!.fields)).not.toContain('secret');
  });

  it('makes up a UUID when the caller sent none, the same in the header and the line', async () => {
    const response = await fetch(`${base}/sms`, { method: 'POST', body: '' });
    const id = response.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const [line] = await lineCount(1);
    expect((line!.fields.req as { id: string }).id).toBe(id);
  });

  it('logs the URL as requested under a mounted router', async () => {
    await (await fetch(`${base}/mounted/thing?x=1`)).text();
    const [line] = await lineCount(1);
    expect((line!.fields.req as { url: string }).url).toBe('/mounted/thing');
  });

  it('leaves out ignored requests, and still gives them an id', async () => {
    const response = await fetch(`${base}/health/live`);
    expect(response.headers.get('x-request-id')).not.toBeNull();
    expect(await lineCount(0)).toEqual([]);
  });

  it('says `request errored` with an err for a 5xx', async () => {
    await (await fetch(`${base}/boom`)).text();
    const [line, ...more] = await lineCount(1);
    expect(more).toEqual([]);
    expect(line!.msg).toBe('request errored');
    expect(line!.fields).toMatchObject({ res: { statusCode: 503 }, err: expect.any(Error) });
    expect((line!.fields.err as Error).message).toBe('failed with status code 503');
  });

  it('says `request aborted` when the client goes away before the answer', async () => {
    const client = httpRequest({ host: '127.0.0.1', port, path: '/slow', headers: { 'x-request-id': 'gone' } });
    client.on('error', () => undefined);
    client.end();
    // The request reaches the route, then the client hangs up.
    const until = Date.now() + 5000;
    while (!slowReached && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 5));
    client.destroy();
    const [line, ...more] = await lineCount(1);
    expect(more).toEqual([]);
    expect(line!.msg).toBe('request aborted');
    expect(line!.fields.req).toMatchObject({ id: 'gone', url: '/slow' });
  });
});

describe('requestLog on pino', () => {
  it("writes a completed request's line without the redaction walk, and an errored one through it", async () => {
    const written: Array<Record<string, unknown>> = [];
    const destination = { write: (line: string) => void written.push(JSON.parse(line) as Record<string, unknown>) };
    // A path that names a field of every line, so the line shows which logger wrote it.
    const logger = pino({ level: 'info', redact: { paths: ['req.method', '*.authToken'], censor: '[redacted]' } }, destination);
    const app = express();
    app.use(requestLog(logger));
    app.post('/sms', (_req, res) => void res.type('text/xml').send('<Response/>'));
    app.get('/boom', (_req, res) => void res.status(500).send('down'));
    const { base, close } = await listenOnLoopback(app);
    try {
      await (await fetch(`${base}/sms`, { method: 'POST', headers: { 'x-request-id': 'ok-1' } })).text();
      await (await fetch(`${base}/boom`, { headers: { 'x-request-id': 'boom-1' } })).text();
      const until = Date.now() + 5000;
      while (written.length < 2 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 5));
    } finally {
      await close();
    }
    const completed = written.find((line) => (line.req as { id: string }).id === 'ok-1');
    const errored = written.find((line) => (line.req as { id: string }).id === 'boom-1');
    expect(completed).toMatchObject({ msg: 'request completed', req: { method: 'POST', url: '/sms' }, res: { statusCode: 200 } });
    expect(errored).toMatchObject({ msg: 'request errored', req: { method: '[redacted]', url: '/boom' }, res: { statusCode: 500 } });
    // The logger it was given keeps its redaction for everything else.
    logger.info({ twilio: { authToken: 'not-for-logs' } }, 'other');
    expect(written.at(-1)).toMatchObject({ twilio: { authToken: '[redacted]' } });
  });
});
