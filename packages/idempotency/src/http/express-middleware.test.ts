// The Idempotency-Key middleware in a real Express app over real HTTP.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '@hardening/core';
import { createMemoryStore } from '../memory-store.js';
import type { IdempotencyStore } from '../store.js';
import { idempotencyKeyMiddleware } from './express-middleware.js';
import type { IdempotencyKeyOptions } from './idempotency-key-handler.js';

/** Waits until the handler named `name` has been entered `n` times (it is then holding its key). */
async function handlerEntered(counts: Record<string, number>, name: string, n: number): Promise<void> {
  await vi.waitFor(() => expect(counts[name] ?? 0, `handler ${name} entered`).toBeGreaterThanOrEqual(n), { timeout: 10_000, interval: 5 });
}

async function startApp(options: Partial<IdempotencyKeyOptions> = {}) {
  const counts: Record<string, number> = {};
  const count = (name: string) => (counts[name] = (counts[name] ?? 0) + 1);
  let openGate!: () => void;
  let gate = new Promise<void>((resolve) => (openGate = resolve));
  const app = express();
  app.use(express.json());
  app.use(idempotencyKeyMiddleware({ store: createMemoryStore(), logger: silentLogger, ...options }));
  app.post('/messages', (req, res) => {
    const n = count('messages');
    res
      .status(201)
      .set('x-message-number', String(n))
      .set('set-cookie', 'session=abc')
      .json({ id: `msg_${n}`, to: req.body.to });
  });
  app.post('/invalid', (_req, res) => {
    count('invalid');
    res.status(400).json({ error: 'to is required' });
  });
  app.post('/rate-limited', (_req, res) => {
    count('rate-limited');
    res.status(429).json({ error: 'slow down' });
  });
  app.post('/boom', () => {
    count('boom');
    return Promise.reject(new Error('database down'));
  });
  app.post('/slow', async (_req, res) => {
    count('slow');
    await gate;
    res.status(200).send('slow done');
  });
  app.post('/chunked', (_req, res) => {
    count('chunked');
    res.status(200).type('text/plain');
    res.write('part1,');
    res.write(Buffer.from('part2,'));
    res.end('end');
  });
  app.get('/messages', (_req, res) => {
    count('get');
    res.json({ list: [] });
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: signal ?? null,
    });
  const setSlowGate = (next: Promise<void>) => void (gate = next);
  return { counts, openGate, setSlowGate, base, post, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('idempotencyKeyMiddleware (Express)', () => {
  let app: Awaited<ReturnType<typeof startApp>>;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    app.openGate();
    await app?.close();
  });

  it('runs the handler once and replays status, headers and body marked as a replay', async () => {
    const first = await app.post('/messages', { to: 'alice' }, { 'idempotency-key': 'key-1' });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const firstBody = await first.text();
    const again = await app.post('/messages', { to: 'alice' }, { 'idempotency-key': 'key-1' });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('x-message-number')).toBe('1');
    expect(again.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(await again.text()).toBe(firstBody);
    expect(app.counts.messages).toBe(1);
  });

  it('treats the body as the same payload whatever its key order; a different body is 422 problem+json', async () => {
    await app.post('/messages', { to: 'bob', text: 'hi' }, { 'idempotency-key': 'key-2' });
    const reordered = await app.post('/messages', { text: 'hi', to: 'bob' }, { 'idempotency-key': 'key-2' });
    expect(reordered.headers.get('idempotent-replayed')).toBe('true');
    const other = await app.post('/messages', { to: 'mallory', text: 'hi' }, { 'idempotency-key': 'key-2' });
    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toBe('application/problem+json');
    expect(await other.json()).toMatchObject({ type: 'about:blank', title: 'Idempotency-Key is already used', status: 422 });
    const otherPath = await app.post('/invalid', { to: 'bob', text: 'hi' }, { 'idempotency-key': 'key-2' });
    expect(otherPath.status).toBe(422);
  });

  it('answers 400 problem+json when the key is missing, empty, too long or malformed', async () => {
    const before = app.counts.messages ?? 0;
    const missing = await app.post('/messages', { to: 'x' });
    expect(missing.status).toBe(400);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    expect(await missing.json()).toMatchObject({ title: 'Idempotency-Key is missing', status: 400 });
    for (const key of ['""', 'k'.repeat(256), '"unterminated', 'has space']) {
      const bad = await app.post('/messages', { to: 'x' }, { 'idempotency-key': key });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ title: 'Idempotency-Key is invalid' });
    }
    expect(app.counts.messages ?? 0).toBe(before);
  });

  it("accepts the draft's quoted Structured Field form as the same key as the bare form", async () => {
    const quoted = await app.post('/messages', { to: 'q' }, { 'idempotency-key': '"8e03978e-40d5-43e8-bc93-6894a57f9324"' });
    expect(quoted.status).toBe(201);
    const bare = await app.post('/messages', { to: 'q' }, { 'idempotency-key': '8e03978e-40d5-43e8-bc93-6894a57f9324' });
    expect(bare.headers.get('idempotent-replayed')).toBe('true');
  });

  it('answers 409 with Retry-After while the first request is still in progress', async () => {
    const first = app.post('/slow', {}, { 'idempotency-key': 'key-slow' });
    await handlerEntered(app.counts, 'slow', 1);
    const duplicate = await app.post('/slow', {}, { 'idempotency-key': 'key-slow' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await duplicate.json()).toMatchObject({ title: 'A request is outstanding for this Idempotency-Key', status: 409 });
    app.openGate();
    expect(await (await first).text()).toBe('slow done');
    const after = await app.post('/slow', {}, { 'idempotency-key': 'key-slow' });
    expect(after.headers.get('idempotent-replayed')).toBe('true');
    expect(app.counts.slow).toBe(1);
  });

  it('a client that disconnects mid-request finds the answer recorded when it retries (the handler is not run twice)', async () => {
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const controller = new AbortController();
    app.setSlowGate(gate);
    const entered = app.counts.slow ?? 0;
    const aborted = app.post('/slow', { n: 2 }, { 'idempotency-key': 'key-abandoned' }, controller.signal).catch((e: unknown) => e);
    await handlerEntered(app.counts, 'slow', entered + 1);
    controller.abort();
    await aborted;
    // The handler is still running: the retry is told to come back later, not run again.
    expect((await app.post('/slow', { n: 2 }, { 'idempotency-key': 'key-abandoned' })).status).toBe(409);
    finish();
    // The record lands right after the handler finishes; until then a retry still gets 409.
    const retry = await vi.waitFor(
      async () => {
        const reply = await app.post('/slow', { n: 2 }, { 'idempotency-key': 'key-abandoned' });
        expect(reply.status).toBe(200);
        return reply;
      },
      { timeout: 10_000, interval: 20 },
    );
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await retry.text()).toBe('slow done');
  });

  it('a thrown error (5xx) releases the key, so the retry runs again', async () => {
    expect((await app.post('/boom', {}, { 'idempotency-key': 'key-boom' })).status).toBe(500);
    expect((await app.post('/boom', {}, { 'idempotency-key': 'key-boom' })).status).toBe(500);
    expect(app.counts.boom).toBe(2);
  });

  it('stores deterministic 4xx answers but not transient ones (429)', async () => {
    await app.post('/invalid', {}, { 'idempotency-key': 'key-400' });
    const replay = await app.post('/invalid', {}, { 'idempotency-key': 'key-400' });
    expect(replay.status).toBe(400);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(app.counts.invalid).toBe(1);
    await app.post('/rate-limited', {}, { 'idempotency-key': 'key-429' });
    const retried = await app.post('/rate-limited', {}, { 'idempotency-key': 'key-429' });
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(app.counts['rate-limited']).toBe(2);
  });

  it('records responses written in several chunks', async () => {
    expect(await (await app.post('/chunked', {}, { 'idempotency-key': 'key-chunks' })).text()).toBe('part1,part2,end');
    const replay = await app.post('/chunked', {}, { 'idempotency-key': 'key-chunks' });
    expect(await replay.text()).toBe('part1,part2,end');
    expect(app.counts.chunked).toBe(1);
  });

  it('leaves other methods alone', async () => {
    expect((await fetch(`${app.base}/messages`)).status).toBe(200);
    expect((await fetch(`${app.base}/messages`)).status).toBe(200);
    expect(app.counts.get).toBe(2);
  });
});

describe('idempotencyKeyMiddleware options', () => {
  it('required: false lets requests without the key through, unguarded', async () => {
    const app = await startApp({ required: false });
    try {
      expect((await app.post('/messages', { to: 'a' })).status).toBe(201);
      expect((await app.post('/messages', { to: 'a' })).status).toBe(201);
      expect(app.counts.messages).toBe(2);
    } finally {
      await app.close();
    }
  });

  it('scope keeps clients that pick the same key apart', async () => {
    const app = await startApp({ scope: (req) => String(req.headers['x-account'] ?? '') });
    try {
      const a = await app.post('/messages', { to: 'z' }, { 'idempotency-key': 'same', 'x-account': 'acct_a' });
      const b = await app.post('/messages', { to: 'z' }, { 'idempotency-key': 'same', 'x-account': 'acct_b' });
      expect(((await a.json()) as { id: string }).id).toBe('msg_1');
      expect(((await b.json()) as { id: string }).id).toBe('msg_2');
    } finally {
      await app.close();
    }
  });

  it('answers 503 problem+json when the store is unreachable, without running the handler', async () => {
    const down: IdempotencyStore = {
      claim: () => {
        return Promise.reject(new Error('ECONNREFUSED'));
      },
      complete: () => Promise.resolve(false),
      release: () => Promise.resolve(false),
    };
    const app = await startApp({ store: down });
    try {
      const res = await app.post('/messages', { to: 'a' }, { 'idempotency-key': 'k' });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toMatchObject({ title: 'Idempotency store unavailable', status: 503 });
      expect(app.counts.messages).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('rejects bad options with a TypeError', () => {
    const store = createMemoryStore();
    expect(() => idempotencyKeyMiddleware({ store, methods: 'POST' as never })).toThrow('Expected `methods` to be an array of HTTP method names.');
    expect(() => idempotencyKeyMiddleware({ store, headerName: '' })).toThrow('Expected `headerName` to be a non-empty string.');
    expect(() => idempotencyKeyMiddleware({ store, fingerprint: 1 as never })).toThrow('Expected `fingerprint` to be a function.');
  });
});
