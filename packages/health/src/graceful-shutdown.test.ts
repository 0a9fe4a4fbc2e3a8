import { EventEmitter } from 'node:events';
import { Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureLogger, deferred, listen, manualTimers } from '../test/support.js';
import { createHealthRouter } from './express-router.js';
import { GracefulShutdown } from './graceful-shutdown.js';

interface Reply {
  status: number;
  body: string;
  connection: string | undefined;
}

/** A GET that resolves with status/body, or rejects on a socket error. */
function get(url: string, agent?: Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0)) await fn();
});

/** An app with health endpoints and a /slow route whose requests finish when the test says. */
async function app() {
  const health = createHealthRouter({ logger: captureLogger() });
  const release = deferred();
  let started = 0;
  const server = await listen((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/slow') {
      started++;
      void release.promise.then(() => res.end('done'));
      return;
    }
    health(req, res);
  });
  cleanups.push(server.close);
  return { ...server, health, release: release.resolve, started: () => started };
}

function harness(options: Partial<ConstructorParameters<typeof GracefulShutdown>[0]> = {}) {
  const signals = new EventEmitter();
  const exits: number[] = [];
  const exited = deferred<number>();
  const logger = captureLogger();
  // The shutdown's own timers (drain, in-flight and cleanup bounds, deadline) are driven by
  // the test; the servers and sockets are real.
  const clock = manualTimers();
  const shutdown = new GracefulShutdown({
    timers: clock.timers,
    signalSource: signals,
    exit: (code) => {
      exits.push(code);
      exited.resolve(code);
    },
    logger,
    drainDelayMs: 150,
    inFlightTimeoutMs: 2000,
    cleanupTimeoutMs: 1000,
    timeoutMs: 5000,
    ...options,
  }).install();
  cleanups.push(() => shutdown.uninstall());
  return { signals, exits, exited: exited.promise, logger, shutdown, clock };
}

describe('GracefulShutdown', () => {
  it('SIGTERM: readiness 503 at once, drain, in-flight requests finish, cleanups in order, exit 0', async () => {
    const a = await app();
    const order: string[] = [];
    const { signals, exited, logger, shutdown, clock } = harness({ servers: [a.server], health: a.health.monitor });
    shutdown.addCleanup('queues', () => void order.push('queues'));
    shutdown.addCleanup('redis', async () => {
      await new Promise((resolve) => setImmediate(resolve)); // an asynchronous cleanup is awaited before the next
      order.push('redis');
    });
    shutdown.addCleanup('prisma', () => void order.push('prisma'));

    const inFlight = get(`${a.url}/slow`);
    await vi.waitFor(() => expect(a.started()).toBe(1), { timeout: 10_000, interval: 5 });
    expect((await get(`${a.url}/health/ready`)).status).toBe(200);

    signals.emit('SIGTERM', 'SIGTERM');
    expect(shutdown.phase).toBe('draining');
    // During the drain the server still answers, with readiness 503 and Connection: close.
    const ready = await get(`${a.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ status: 'fail', output: 'shutting down' });
    expect(ready.connection).toBe('close');
    expect((await get(`${a.url}/health/live`)).status).toBe(200);

    // The drain lasts drainDelayMs (150), not a millisecond less.
    clock.advance(149);
    await new Promise((resolve) => setImmediate(resolve));
    expect(shutdown.phase).toBe('draining');
    expect((await get(`${a.url}/health/live`)).status).toBe(200);
    // After the drain the listener is closed: new connections are refused.
    clock.advance(1);
    await vi.waitFor(() => expect(shutdown.phase).toBe('closing'), { timeout: 10_000, interval: 5 });
    await expect(get(`${a.url}/health/live`)).rejects.toThrow(/ECONNREFUSED/);
    expect(order).toEqual([]);

    a.release();
    const reply = await inFlight;
    expect(reply).toMatchObject({ status: 200, body: 'done', connection: 'close' });
    expect(await exited).toBe(0);
    expect(order).toEqual(['queues', 'redis', 'prisma']);
    expect(shutdown.phase).toBe('done');
    const messages = logger.lines.map((l) => l.msg ?? '');
    expect(messages[0]).toContain('graceful shutdown: SIGTERM; readiness fails now');
    expect(messages.at(-1)).toBe('graceful shutdown: complete; exiting with 0');
  });

  it('a second signal forces exit 1 with a log line', async () => {
    const a = await app();
    const { signals, exits, exited, logger } = harness({ servers: [a.server], drainDelayMs: 10_000 });
    signals.emit('SIGINT', 'SIGINT');
    await new Promise((resolve) => setImmediate(resolve));
    expect(exits).toEqual([]); // the first signal only starts the (10 s) drain
    signals.emit('SIGINT', 'SIGINT');
    expect(await exited).toBe(1);
    expect(exits).toEqual([1]);
    const forced = logger.lines.find((l) => l.level === 'error');
    expect(forced?.msg).toBe('graceful shutdown: second SIGINT during shutdown; forcing exit with code 1');
  });

  it('the overall timeout forces exit 1 with a log line (a cleanup that hangs)', async () => {
    const { exited, exits, logger, shutdown, clock } = harness({ drainDelayMs: 0, timeoutMs: 200, cleanupTimeoutMs: 60_000 });
    let stuckStarted = false;
    shutdown.addCleanup('stuck', () => ((stuckStarted = true), new Promise(() => {})));
    shutdown.addCleanup('never-reached', () => {
      throw new Error('must not run');
    });
    void shutdown.shutdown('test');
    clock.advance(0); // the (empty) drain
    await vi.waitFor(() => expect(stuckStarted).toBe(true), { timeout: 10_000, interval: 5 });
    clock.advance(199);
    await new Promise((resolve) => setImmediate(resolve));
    expect(exits).toEqual([]);
    clock.advance(1);
    expect(await exited).toBe(1);
    // The stuck cleanup's own bound ending later neither runs the next cleanup nor exits again.
    clock.advance(60_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(exits).toEqual([1]);
    expect(logger.text()).toContain('graceful shutdown: timed out after 200 ms; forcing exit with code 1');
  });

  it('in-flight requests past inFlightTimeoutMs get their connections destroyed; cleanups still run; exit 0', async () => {
    const a = await app();
    const { signals, exited, logger, shutdown, clock } = harness({ servers: [a.server], drainDelayMs: 0, inFlightTimeoutMs: 150 });
    const stuck = get(`${a.url}/slow`);
    stuck.catch(() => {});
    await vi.waitFor(() => expect(a.started()).toBe(1), { timeout: 10_000, interval: 5 });
    signals.emit('SIGTERM', 'SIGTERM');
    clock.advance(0); // the (empty) drain
    await vi.waitFor(() => expect(shutdown.phase).toBe('closing'), { timeout: 10_000, interval: 5 });
    clock.advance(149);
    expect(logger.text()).not.toContain('still running');
    clock.advance(1);
    await expect(stuck).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(await exited).toBe(0);
    expect(logger.text()).toContain('1 request(s) still running after 150 ms; destroying their connections');
  });

  it('a failing cleanup is logged, the next ones still run, and the exit code is 1', async () => {
    const order: string[] = [];
    const { exited, logger, shutdown, clock } = harness({ drainDelayMs: 0 });
    shutdown.addCleanup('redis', () => {
      throw new Error('QUIT failed');
    });
    let slowStarted = false;
    shutdown.addCleanup('slow', () => ((slowStarted = true), new Promise(() => {})), { timeoutMs: 30 });
    shutdown.addCleanup('prisma', () => void order.push('prisma'));
    void shutdown.shutdown();
    clock.advance(0); // the (empty) drain
    await vi.waitFor(() => expect(slowStarted).toBe(true), { timeout: 10_000, interval: 5 });
    expect(clock.pendingDelays()).toContain(30); // the slow cleanup is bounded by its own timeoutMs
    clock.advance(30);
    expect(await exited).toBe(1);
    expect(order).toEqual(['prisma']);
    const failures = logger.lines.filter((l) => l.msg?.endsWith('failed'));
    expect(failures.map((l) => [l.obj.cleanup, l.obj.error])).toEqual([
      ['redis', 'QUIT failed'],
      ['slow', 'slow did not finish within 30 ms'],
    ]);
  });

  it('several servers in one process: all drain and close; idle keep-alive connections do not hold shutdown up', async () => {
    const a = await app();
    const b = await app();
    // Node would drop idle keep-alive sockets after its own 5 s; make that 60 s so only shutdown closes them.
    a.server.keepAliveTimeout = 60_000;
    b.server.keepAliveTimeout = 60_000;
    const { signals, exited, shutdown, clock } = harness({ servers: [a.server], drainDelayMs: 50, inFlightTimeoutMs: 10_000 });
    shutdown.addServer(b.server).addHealth(b.health.monitor);
    const agent = new Agent({ keepAlive: true });
    cleanups.push(() => agent.destroy());
    // An idle keep-alive connection to each server.
    expect((await get(`${a.url}/health/live`, agent)).status).toBe(200);
    expect((await get(`${b.url}/health/live`, agent)).status).toBe(200);
    const slowA = get(`${a.url}/slow`);
    const slowB = get(`${b.url}/slow`);
    await vi.waitFor(() => expect(a.started() + b.started()).toBe(2), { timeout: 10_000, interval: 5 });
    signals.emit('SIGTERM', 'SIGTERM');
    expect((await get(`${b.url}/health/ready`)).status).toBe(503);
    clock.advance(50);
    await vi.waitFor(() => expect(shutdown.phase).toBe('closing'), { timeout: 10_000, interval: 5 });
    a.release();
    b.release();
    expect((await slowA).status).toBe(200);
    expect((await slowB).status).toBe(200);
    // The test never moves the clock to the 10 s in-flight bound: shutdown finishes only if
    // the idle keep-alive sockets are closed, not waited for.
    expect(await exited).toBe(0);
    expect(clock.fired).not.toContain(10_000);
    expect(clock.pendingDelays()).toEqual([]); // every bound and the deadline were cleared
    expect(a.server.listening).toBe(false);
    expect(b.server.listening).toBe(false);
  });

  it('shutdown() is idempotent, uninstall() stops listening, options are validated', async () => {
    const { signals, shutdown, exited, clock } = harness({ drainDelayMs: 0 });
    const first = shutdown.shutdown('a');
    expect(shutdown.shutdown('b')).toBe(first);
    clock.advance(0); // the (empty) drain
    expect(await exited).toBe(0);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
    // https servers are accepted too (type and runtime).
    expect(new GracefulShutdown({ servers: [createHttpsServer()] }).phase).toBe('running');
    expect(() => new GracefulShutdown({ drainDelayMs: -1 })).toThrow('Expected `drainDelayMs` to be a non-negative number of milliseconds, got -1.');
    expect(() => new GracefulShutdown().addServer({} as never)).toThrow('Expected `server` to be an http.Server');
    expect(() => new GracefulShutdown().addCleanup('', () => {})).toThrow('non-empty string');
    expect(() => new GracefulShutdown().addCleanup('x', () => {}, { timeoutMs: Number.NaN })).toThrow('x.timeoutMs');
    expect(() => new GracefulShutdown({ timers: { setTimeout } as never })).toThrow(
      'Expected `timers` to be an object with setTimeout and clearTimeout functions.',
    );
  });

  it('warns when a second instance listens to the real process signals', () => {
    const logger = captureLogger();
    const one = new GracefulShutdown({ logger, exit: () => {} }).install();
    const two = new GracefulShutdown({ logger, exit: () => {} }).install();
    try {
      expect(logger.text()).toContain('more than one instance listens to signals');
    } finally {
      one.uninstall();
      two.uninstall();
    }
    expect(process.listeners('SIGTERM').length).toBeLessThan(5);
  });
});
