import { hostname } from 'node:os';
import type { Logger } from '@hardening/core';
import { consoleLogger, scrubText } from '@hardening/core';
import type { AlertSender } from '../alert-sender.js';

/**
 * The slice of `@sentry/node` the handlers use.
 *
 * @example
 * ```ts
 * import * as Sentry from '@sentry/node';
 * import { installProcessHandlers } from '@hardening/alerting';
 * installProcessHandlers({ sentry: Sentry });
 * ```
 */
export interface SentryCrashLike {
  captureException(exception: unknown, hint?: Record<string, unknown>): string;
  flush?(timeout?: number): PromiseLike<boolean>;
}

/**
 * The slice of `process` the handlers attach to (the real `process` by default).
 *
 * @example
 * ```ts
 * import { EventEmitter } from 'node:events';
 * import { installProcessHandlers } from '@hardening/alerting';
 * const fakeProcess = new EventEmitter();
 * installProcessHandlers({ process: fakeProcess, exit: (code) => console.log('would exit', code) });
 * ```
 */
export interface ProcessEventsLike {
  on(event: 'uncaughtException', listener: (error: Error) => void): unknown;
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  off(event: 'uncaughtException', listener: (error: Error) => void): unknown;
  off(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
}

/**
 * Options for {@link installProcessHandlers}.
 *
 * @example
 * ```ts
 * import * as Sentry from '@sentry/node';
 * import type { ProcessHandlerOptions } from '@hardening/alerting';
 * const options: ProcessHandlerOptions = { alerts, sentry: Sentry, timeoutMs: 3000 };
 * ```
 */
export interface ProcessHandlerOptions {
  /** Raises a `PROCESS_CRASH` HIGH alert. */
  readonly alerts?: AlertSender;
  /** Reports the error to Sentry and flushes before exiting. */
  readonly sentry?: SentryCrashLike;
  /**
   * Where the fatal line goes.
   * @default JSON lines on the console
   */
  readonly logger?: Logger;
  /**
   * How the process ends (injected so tests, and apps with their own shutdown, can
   * replace it). Called once, with 1.
   * @default process.exit
   */
  readonly exit?: (code: number) => void;
  /**
   * Longest time spent reporting and alerting before exiting anyway.
   * @default 5000
   */
  readonly timeoutMs?: number;
  /**
   * Exit on an unhandled rejection too (Node's own default since v15).
   * @default true
   */
  readonly exitOnUnhandledRejection?: boolean;
  /**
   * Runs before exiting (close servers, flush queues), within the timeout.
   * @default none
   */
  readonly beforeExit?: () => Promise<void> | void;
  /**
   * `resourceId` of the crash alert.
   * @default os.hostname()
   */
  readonly instance?: string;
  /**
   * Where to listen.
   * @default process
   */
  readonly process?: ProcessEventsLike;
}

/**
 * Installs `uncaughtException` and `unhandledRejection` handlers that log the error
 * (scrubbed), report it to Sentry, raise a `PROCESS_CRASH` HIGH alert, run `beforeExit`,
 * flush Sentry, and exit with code 1: all within `timeoutMs`, so a hung provider cannot
 * keep a broken process alive. A second error while this runs is logged and otherwise
 * ignored.
 *
 * @param options - See {@link ProcessHandlerOptions}.
 * @returns A function that removes the handlers.
 * @example
 * ```ts
 * import * as Sentry from '@sentry/node';
 * import { installProcessHandlers } from '@hardening/alerting';
 * const uninstall = installProcessHandlers({ alerts, sentry: Sentry, beforeExit: () => server.close() });
 * ```
 */
export function installProcessHandlers(options: ProcessHandlerOptions = {}): () => void {
  const logger = options.logger ?? consoleLogger({ component: 'process' });
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const timeoutMs = options.timeoutMs ?? 5000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError(`Expected \`timeoutMs\` to be a positive number, got ${String(timeoutMs)}.`);
  const target: ProcessEventsLike = options.process ?? process;
  const instance = options.instance ?? hostname();
  let handling = false;

  const handle = (kind: 'uncaughtException' | 'unhandledRejection', error: unknown, exitAfter: boolean) => {
    const err =
      error instanceof Error
        ? { name: error.name, message: scrubText(error.message), stack: error.stack === undefined ? undefined : scrubText(error.stack) }
        : { name: 'NonError', message: scrubText(String(error)) };
    if (handling) {
      logger.error({ err, kind }, `${kind} while already handling a fatal error; ignored`);
      return;
    }
    if (!exitAfter) {
      logger.error({ err, kind }, `${kind}: ${err.message}`);
      options.sentry?.captureException(error, { tags: { kind } });
      return;
    }
    handling = true;
    logger.error({ err, kind }, `FATAL ${kind}: ${err.message}; reporting, alerting and exiting`);
    const work = (async () => {
      try {
        options.sentry?.captureException(error, { tags: { kind }, level: 'fatal' });
      } catch {
        // reporting must not stop the exit
      }
      await options.alerts
        ?.sendCriticalAlert({
          type: 'PROCESS_CRASH',
          severity: 'HIGH',
          resourceId: instance,
          title: `Process crashed: ${err.name}`,
          message: `${kind} on ${instance}: ${err.message}`,
          context: { kind, pid: process.pid },
        })
        .catch(() => undefined);
      await Promise.resolve(options.beforeExit?.()).catch((beforeExitError: unknown) =>
        logger.error({ err: scrubText(String(beforeExitError)) }, 'beforeExit failed'),
      );
      await Promise.resolve(options.sentry?.flush?.(Math.max(100, timeoutMs / 2))).catch(() => undefined);
    })();
    let exited = false;
    const finish = () => {
      if (exited) return;
      exited = true;
      clearTimeout(timer);
      exit(1);
    };
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'fatal error handling timed out; exiting now');
      finish();
    }, timeoutMs);
    void work.finally(finish);
  };

  const onException = (error: unknown) => handle('uncaughtException', error, true);
  const onRejection = (reason: unknown) => handle('unhandledRejection', reason, options.exitOnUnhandledRejection ?? true);
  target.on('uncaughtException', onException);
  target.on('unhandledRejection', onRejection);
  return () => {
    target.off('uncaughtException', onException);
    target.off('unhandledRejection', onRejection);
  };
}
