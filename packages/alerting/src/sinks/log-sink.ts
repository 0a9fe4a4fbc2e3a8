import type { Logger } from '@hardening/core';
import type { AlertMessage } from '../alert.js';
import { displayResource, headline, scrubbedAlert } from '../format.js';
import type { AlertSink, SinkReceipt } from './sink.js';

/**
 * Options for {@link createLogSink}.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * import { createLogSink } from '@hardening/alerting';
 * const logSink = createLogSink({ logger: pino() });
 * ```
 */
export interface LogSinkOptions {
  /** Where the alert lines go (a pino logger fits). */
  readonly logger: Logger;
  /**
   * Sink name, used in routes.
   * @default 'log'
   */
  readonly name?: string;
}

const levels = { HIGH: 'error', MEDIUM: 'warn', LOW: 'info' } as const;

/**
 * The sink that always works: one structured log line per alert (`ALERT [HIGH] TYPE:
 * title`), at `error` for HIGH, `warn` for MEDIUM and `info` for LOW, with the scrubbed
 * alert under `alert`. It is every alert service's last fallback; a logger that throws
 * falls back to `console.error`.
 *
 * @param options - See {@link LogSinkOptions}.
 * @returns The sink.
 * @example
 * ```ts
 * import { consoleLogger } from '@hardening/core';
 * import { createLogSink } from '@hardening/alerting';
 * const sink = createLogSink({ logger: consoleLogger() });
 * ```
 */
export function createLogSink(options: LogSinkOptions): AlertSink {
  const logger = options?.logger;
  if (typeof logger?.error !== 'function' || typeof logger.warn !== 'function' || typeof logger.info !== 'function') {
    throw new TypeError('Expected `logger` to be a logger with info, warn and error (a pino logger fits).');
  }
  return {
    name: options.name ?? 'log',
    remote: false,
    // eslint-disable-next-line @typescript-eslint/require-await -- AlertSink.send is async: a throw (a malformed message) stays a rejection
    async send(message: AlertMessage): Promise<SinkReceipt> {
      const level = message.kind === 'resolve' ? 'info' : levels[message.severity];
      const resource = displayResource(message.resourceId);
      const line = `ALERT ${headline(message)}${resource !== undefined ? ` (${resource})` : ''}`;
      try {
        logger[level]({ alert: scrubbedAlert(message) }, line);
      } catch {
        console.error(JSON.stringify({ level, msg: line, alert: scrubbedAlert(message) }));
      }
      return { ids: [message.id] };
    },
  };
}
