import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { consoleLogger, type Logger } from '@hardening/core';
import { describeError } from './run-check.js';
import { resolveTimers, type Timers } from '@hardening/core';

/**
 * Something whose readiness must fail as soon as shutdown starts (a `HealthMonitor`).
 *
 * @example
 * ```ts
 * import type { ShutdownAware } from '@hardening/health';
 * let accepting = true;
 * const queueConsumer: ShutdownAware = { markShuttingDown: () => { accepting = false; } };
 * ```
 */
export interface ShutdownAware {
  markShuttingDown(): void;
}

/**
 * Where signals come from: `process` by default, an `EventEmitter` in tests.
 *
 * @example
 * ```ts
 * import { EventEmitter } from 'node:events';
 * import type { SignalSource } from '@hardening/health';
 * const fake: SignalSource = new EventEmitter();
 * ```
 */
export interface SignalSource {
  on(signal: string, listener: (signal: string) => void): unknown;
  off(signal: string, listener: (signal: string) => void): unknown;
}

/**
 * A cleanup step: close a queue, Redis, Prisma. Runs after the servers have closed.
 *
 * @example
 * ```ts
 * import type { Cleanup } from '@hardening/health';
 * const closeRedis: Cleanup = { name: 'redis', run: async () => {}, timeoutMs: 2000 };
 * ```
 */
export interface Cleanup {
  /** Name used in logs. */
  readonly name: string;
  /** The work; receives a signal aborted at its timeout. */
  readonly run: (signal: AbortSignal) => unknown;
  /**
   * How long it may take before it is abandoned (and logged as failed).
   * @default the shutdown's `cleanupTimeoutMs`
   */
  readonly timeoutMs?: number | undefined;
}

/**
 * Options for {@link GracefulShutdown}.
 *
 * @example
 * ```ts
 * import type { GracefulShutdownOptions } from '@hardening/health';
 * const options: GracefulShutdownOptions = { drainDelayMs: 10_000, timeoutMs: 50_000 };
 * ```
 */
export interface GracefulShutdownOptions {
  /**
   * HTTP(S) servers to close; more with {@link GracefulShutdown.addServer}.
   * @default []
   */
  readonly servers?: readonly Server[] | undefined;
  /**
   * Monitors (or anything with `markShuttingDown`) whose readiness turns 503 the moment
   * shutdown starts.
   * @default []
   */
  readonly health?: ShutdownAware | readonly ShutdownAware[] | undefined;
  /**
   * Cleanups, run in this order after the servers closed; more with {@link GracefulShutdown.addCleanup}.
   * @default []
   */
  readonly cleanups?: readonly Cleanup[] | undefined;
  /**
   * How long the servers keep accepting after readiness turned 503, so load balancers
   * and Kubernetes endpoints stop routing here before the listeners close. Match it to
   * the readiness probe: `periodSeconds * failureThreshold` or your ingress' propagation time.
   * @default 5_000
   */
  readonly drainDelayMs?: number | undefined;
  /**
   * After the listeners close, how long in-flight requests have to finish before their
   * connections are destroyed.
   * @default 10_000
   */
  readonly inFlightTimeoutMs?: number | undefined;
  /**
   * Default timeout of each cleanup.
   * @default 5_000
   */
  readonly cleanupTimeoutMs?: number | undefined;
  /**
   * Hard limit on the whole shutdown, from the signal: past it the process exits with
   * code 1 and a log line. Keep it under Kubernetes' `terminationGracePeriodSeconds` (30 s).
   * @default 25_000
   */
  readonly timeoutMs?: number | undefined;
  /**
   * Signals that start a shutdown; a second one forces exit.
   * @default ['SIGTERM', 'SIGINT']
   */
  readonly signals?: readonly string[] | undefined;
  /**
   * Where signals come from.
   * @default process
   */
  readonly signalSource?: SignalSource | undefined;
  /**
   * Ends the process. Injected in tests.
   * @default process.exit
   */
  readonly exit?: ((code: number) => void) | undefined;
  /**
   * Where the shutdown steps are logged.
   * @default consoleLogger({ component: '@hardening/health' })
   */
  readonly logger?: Logger | undefined;
  /**
   * Timers for the drain delay, the in-flight and cleanup timeouts and the overall deadline; see {@link Timers}. Inject them (or use `vi.useFakeTimers()`, which
   * the default follows) to drive time in tests.
   * @default the global setTimeout/clearTimeout ({@link systemTimers})
   * @example
   * ```ts
   * { timers: { setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) } }
   * ```
   */
  readonly timers?: Timers | undefined;
}

const defaults = {
  drainDelayMs: 5_000,
  inFlightTimeoutMs: 10_000,
  cleanupTimeoutMs: 5_000,
  timeoutMs: 25_000,
  signals: ['SIGTERM', 'SIGINT'] as readonly string[],
};

/**
 * Where a shutdown is.
 *
 * @example
 * ```ts
 * import type { ShutdownPhase } from '@hardening/health';
 * const stopping = (phase: ShutdownPhase) => phase !== 'running';
 * ```
 */
export type ShutdownPhase = 'running' | 'draining' | 'closing' | 'cleaning-up' | 'done' | 'forced';

interface TrackedServer {
  readonly server: Server;
  readonly inFlight: Set<ServerResponse>;
  readonly onRequest: (req: IncomingMessage, res: ServerResponse) => void;
}

const installedKey = Symbol.for('@hardening/health/graceful-shutdown-installed');

function assertDuration(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`Expected \`${name}\` to be a non-negative number of milliseconds, got ${String(value)}.`);
  }
}

/** `Array.isArray` alone would narrow a readonly list to `any[]`. */
function isList(value: ShutdownAware | readonly ShutdownAware[]): value is readonly ShutdownAware[] {
  return Array.isArray(value);
}

/**
 * Graceful shutdown for one process, with any number of HTTP servers.
 *
 * On the first SIGTERM/SIGINT: readiness turns 503 at once (`health`); the servers keep
 * serving for `drainDelayMs` while load balancers move away, answering with
 * `Connection: close`; then the listeners close, in-flight requests finish (bounded by
 * `inFlightTimeoutMs`, then their connections are destroyed); the cleanups run in order,
 * each bounded; and the process exits 0 (1 if a cleanup failed). A second signal, or
 * `timeoutMs` elapsing, forces exit 1 with a log line.
 *
 * Hand-written rather than `http-terminator`/`stoppable`/`@godaddy/terminus`: those
 * close the listener at once (no readiness drain) or own the signal handling and exit
 * without the ordered, bounded cleanups and forced-exit rules this needs; Node 20's own
 * `server.closeIdleConnections()` does the connection work.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createHealthRouter, GracefulShutdown } from '@hardening/health';
 *
 * const app = express();
 * const health = createHealthRouter({ serviceId: 'sms-gateway' });
 * app.use(health);
 * const server = app.listen(3000);
 *
 * const shutdown = new GracefulShutdown({ servers: [server], health: health.monitor, drainDelayMs: 10_000 });
 * shutdown.addCleanup('redis', async () => {});
 * shutdown.addCleanup('prisma', async () => {});
 * shutdown.install();
 * ```
 */
export class GracefulShutdown {
  private readonly servers: TrackedServer[] = [];
  private readonly health: ShutdownAware[];
  private readonly cleanups: Cleanup[];
  private readonly options: typeof defaults & GracefulShutdownOptions;
  private readonly logger: Logger;
  private readonly exit: (code: number) => void;
  private readonly signalSource: SignalSource;
  private currentPhase: ShutdownPhase = 'running';
  private installed = false;
  private finished: Promise<number> | undefined;
  private forceTimer: unknown;
  private readonly timers: Timers;
  private readonly onSignal = (signal: string): void => {
    if (this.currentPhase === 'running') void this.shutdown(signal);
    else if (this.currentPhase !== 'done' && this.currentPhase !== 'forced') this.force(`second ${signal} during shutdown`);
  };

  /**
   * @param options - See {@link GracefulShutdownOptions}.
   * @throws TypeError when an option is out of range.
   */
  constructor(options: GracefulShutdownOptions = {}) {
    for (const key of ['drainDelayMs', 'inFlightTimeoutMs', 'cleanupTimeoutMs', 'timeoutMs'] as const) {
      if (options[key] !== undefined) assertDuration(key, options[key]);
    }
    const set = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.options = { ...defaults, ...set };
    this.logger = options.logger ?? consoleLogger({ component: '@hardening/health' });
    this.exit = options.exit ?? ((code) => process.exit(code));
    this.signalSource = options.signalSource ?? process;
    this.timers = resolveTimers(options.timers);
    const health = options.health;
    this.health = health === undefined ? [] : isList(health) ? [...health] : [health];
    this.cleanups = [];
    for (const cleanup of options.cleanups ?? []) this.addCleanup(cleanup.name, cleanup.run, { timeoutMs: cleanup.timeoutMs });
    for (const server of options.servers ?? []) this.addServer(server);
  }

  /** Where the shutdown is. */
  get phase(): ShutdownPhase {
    return this.currentPhase;
  }

  /** Whether a shutdown has started. */
  get shuttingDown(): boolean {
    return this.currentPhase !== 'running';
  }

  /**
   * Adds a server to drain and close.
   *
   * @param server - An `http.Server` or `https.Server` (Express: what `app.listen()` returns).
   * @returns This, for chaining.
   */
  addServer(server: Server): this {
    if (typeof server?.close !== 'function' || typeof server.on !== 'function') {
      throw new TypeError('Expected `server` to be an http.Server (what app.listen() returns).');
    }
    const inFlight = new Set<ServerResponse>();
    const onRequest = (_req: IncomingMessage, res: ServerResponse): void => {
      inFlight.add(res);
      res.once('close', () => inFlight.delete(res));
      // While shutting down, every answer closes its connection so clients reconnect elsewhere.
      if (this.currentPhase !== 'running') closeAfterResponse(res);
    };
    // Prepended so the header is set before the app's handler can send headers.
    server.prependListener('request', onRequest);
    this.servers.push({ server, inFlight, onRequest });
    return this;
  }

  /**
   * Adds a readiness source to fail at shutdown.
   *
   * @param target - A `HealthMonitor` or anything with `markShuttingDown()`.
   * @returns This, for chaining.
   */
  addHealth(target: ShutdownAware): this {
    this.health.push(target);
    return this;
  }

  /**
   * Adds a cleanup; cleanups run in the order added, after the servers closed.
   *
   * @param name - Name for the logs.
   * @param run - The work.
   * @param options - `timeoutMs` for this cleanup.
   * @returns This, for chaining.
   */
  addCleanup(name: string, run: (signal: AbortSignal) => unknown, options: { readonly timeoutMs?: number | undefined } = {}): this {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError('Expected the cleanup `name` to be a non-empty string.');
    if (typeof run !== 'function') throw new TypeError(`Expected the cleanup "${name}" to be a function.`);
    if (options.timeoutMs !== undefined) assertDuration(`${name}.timeoutMs`, options.timeoutMs);
    this.cleanups.push({ name, run, timeoutMs: options.timeoutMs });
    return this;
  }

  /**
   * Listens to the signals. Call once per process.
   *
   * @returns This, for chaining.
   */
  install(): this {
    if (this.installed) return this;
    this.installed = true;
    if (this.signalSource === process) {
      const holder = globalThis as unknown as Record<symbol, number | undefined>;
      holder[installedKey] = (holder[installedKey] ?? 0) + 1;
      if (holder[installedKey] > 1) {
        this.logger.warn(
          { event: 'health.shutdown_installed_twice' },
          'graceful shutdown: more than one instance listens to signals in this process; use one and addServer() for each server',
        );
      }
    }
    for (const signal of this.options.signals) this.signalSource.on(signal, this.onSignal);
    return this;
  }

  /** Stops listening to the signals (and stops tracking requests). */
  uninstall(): void {
    if (this.installed) {
      this.installed = false;
      for (const signal of this.options.signals) this.signalSource.off(signal, this.onSignal);
      if (this.signalSource === process) {
        const holder = globalThis as unknown as Record<symbol, number | undefined>;
        holder[installedKey] = Math.max(0, (holder[installedKey] ?? 1) - 1);
      }
    }
  }

  /**
   * Starts the shutdown (what a signal does). Calling it again returns the same promise.
   *
   * @param reason - Why, for the logs (the signal name).
   * @returns The exit code passed to `exit`.
   */
  shutdown(reason = 'shutdown requested'): Promise<number> {
    this.finished ??= this.run(reason);
    return this.finished;
  }

  private async run(reason: string): Promise<number> {
    const started = performance.now();
    this.currentPhase = 'draining';
    const { drainDelayMs, inFlightTimeoutMs, timeoutMs } = this.options;
    this.forceTimer = this.timers.setTimeout(() => this.force(`timed out after ${timeoutMs} ms`), timeoutMs);
    for (const target of this.health) {
      try {
        target.markShuttingDown();
      } catch (error) {
        this.logger.error({ event: 'health.shutdown_error', error: describeError(error) }, 'graceful shutdown: markShuttingDown threw');
      }
    }
    const inFlight = () => this.servers.reduce((n, s) => n + s.inFlight.size, 0);
    this.logger.info(
      { event: 'health.shutdown_started', reason, drainDelayMs, servers: this.servers.length, inFlight: inFlight() },
      `graceful shutdown: ${reason}; readiness fails now, draining for ${drainDelayMs} ms`,
    );
    for (const { inFlight: responses } of this.servers) for (const res of responses) closeAfterResponse(res);

    await delay(this.timers, drainDelayMs);
    if (this.wasForced()) return 1;
    this.currentPhase = 'closing';
    this.logger.info(
      { event: 'health.shutdown_closing', inFlight: inFlight() },
      `graceful shutdown: closing listeners; waiting for ${inFlight()} in-flight request(s)`,
    );
    await Promise.all(this.servers.map((tracked) => this.closeServer(tracked, inFlightTimeoutMs)));
    if (this.wasForced()) return 1;

    this.currentPhase = 'cleaning-up';
    let failed = 0;
    for (const cleanup of this.cleanups) {
      const ms = cleanup.timeoutMs ?? this.options.cleanupTimeoutMs;
      const t0 = performance.now();
      try {
        await runBounded(this.timers, cleanup.run, ms, cleanup.name);
        this.logger.info(
          { event: 'health.cleanup', cleanup: cleanup.name, durationMs: Math.round(performance.now() - t0) },
          `graceful shutdown: ${cleanup.name} closed`,
        );
      } catch (error) {
        failed++;
        this.logger.error({ event: 'health.cleanup_failed', cleanup: cleanup.name, error: describeError(error) }, `graceful shutdown: ${cleanup.name} failed`);
      }
      if (this.wasForced()) return 1;
    }

    this.timers.clearTimeout(this.forceTimer);
    this.currentPhase = 'done';
    const code = failed === 0 ? 0 : 1;
    this.logger.info(
      { event: 'health.shutdown_complete', durationMs: Math.round(performance.now() - started), failedCleanups: failed, exitCode: code },
      `graceful shutdown: complete; exiting with ${code}`,
    );
    this.uninstall();
    this.exit(code);
    return code;
  }

  private closeServer(tracked: TrackedServer, inFlightTimeoutMs: number): Promise<void> {
    const { server } = tracked;
    return new Promise<void>((resolve) => {
      const timer = this.timers.setTimeout(() => {
        this.logger.warn(
          { event: 'health.shutdown_destroying', inFlight: tracked.inFlight.size, inFlightTimeoutMs },
          `graceful shutdown: ${tracked.inFlight.size} request(s) still running after ${inFlightTimeoutMs} ms; destroying their connections`,
        );
        server.closeAllConnections?.();
      }, inFlightTimeoutMs);
      // A finished response leaves a keep-alive connection idle: close it at once.
      const onIdle = () => setImmediate(() => server.closeIdleConnections?.());
      for (const res of tracked.inFlight) res.once('finish', onIdle);
      server.close(() => {
        this.timers.clearTimeout(timer);
        server.off('request', tracked.onRequest);
        resolve();
      });
      server.closeIdleConnections?.();
    });
  }

  /** A method, not an inline comparison: TypeScript narrows the phase and cannot see `force` changing it across awaits. */
  private wasForced(): boolean {
    return this.currentPhase === 'forced';
  }

  private force(why: string): void {
    if (this.currentPhase === 'done' || this.currentPhase === 'forced') return;
    this.currentPhase = 'forced';
    this.timers.clearTimeout(this.forceTimer);
    this.logger.error({ event: 'health.shutdown_forced', why }, `graceful shutdown: ${why}; forcing exit with code 1`);
    this.uninstall();
    this.exit(1);
  }
}

function closeAfterResponse(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('connection', 'close');
}

function delay(timers: Timers, ms: number): Promise<void> {
  return new Promise((resolve) => void timers.setTimeout(resolve, ms));
}

async function runBounded(timers: Timers, run: (signal: AbortSignal) => unknown, timeoutMs: number, name: string): Promise<void> {
  const controller = new AbortController();
  let timer: unknown;
  const deadline = new Promise<never>((_, reject) => {
    timer = timers.setTimeout(() => {
      const error = new Error(`${name} did not finish within ${timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  const work = Promise.resolve().then(() => run(controller.signal));
  work.catch(() => {});
  try {
    await Promise.race([work, deadline]);
  } finally {
    if (timer !== undefined) timers.clearTimeout(timer);
  }
}
