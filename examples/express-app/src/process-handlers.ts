import { installProcessHandlers, type ProcessEventsLike } from '@hardening/alerting';
import type { AppContext } from './app-context.js';

/** Options of {@link installAppProcessHandlers} (the tests inject the process and the exit). */
export interface AppProcessHandlerOptions {
  /** Closes what the app opened, within the timeout (buildContext's close). */
  readonly close: () => Promise<void>;
  /** @default process */
  readonly process?: ProcessEventsLike;
  /** @default process.exit */
  readonly exit?: (code: number) => void;
  /**
   * Longest time spent alerting and closing before exiting anyway.
   * @default 5000
   */
  readonly timeoutMs?: number;
}

/**
 * Seed 001's last line of defence: an uncaught exception or an unhandled rejection is
 * logged (scrubbed), raised as a `PROCESS_CRASH` HIGH alert (SMS to the operator, Slack),
 * the app's connections are closed, and the process exits with 1 for its supervisor to
 * restart it: a process in an unknown state never keeps answering webhooks.
 *
 * @returns A function that removes the handlers.
 * @example
 * ```ts
 * const built = await buildContext(config);
 * installAppProcessHandlers(built.ctx, { close: () => built.close() });
 * ```
 */
export function installAppProcessHandlers(ctx: Pick<AppContext, 'alerts' | 'logger'>, options: AppProcessHandlerOptions): () => void {
  return installProcessHandlers({
    alerts: ctx.alerts,
    logger: ctx.logger,
    beforeExit: options.close,
    timeoutMs: options.timeoutMs ?? 5000,
    ...(options.process === undefined ? {} : { process: options.process }),
    ...(options.exit === undefined ? {} : { exit: options.exit }),
  });
}
