/**
 * The logger the `@hardening` packages write to: a pino logger satisfies it as is
 * (`logger.warn({ obj }, 'message')`), and so does {@link consoleLogger}.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * import { createSafeCall, type Logger } from '@hardening/core';
 * const logger: Logger = pino();
 * const safeCall = createSafeCall({ logger });
 * ```
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /** pino's child loggers; used to carry a correlation id when present. */
  child?(bindings: Record<string, unknown>): Logger;
}

function write(level: 'debug' | 'info' | 'warn' | 'error', bindings: Record<string, unknown>) {
  return (obj: object, msg?: string) => {
    const line = JSON.stringify({ level, time: new Date().toISOString(), ...bindings, ...obj, msg });
    if (level === 'error' || level === 'warn') console.error(line);
    else console.log(line);
  };
}

/**
 * A JSON-lines logger on the console, used when none is given.
 *
 * @param bindings - Fields added to every line.
 * @returns A {@link Logger}.
 * @example
 * ```ts
 * import { consoleLogger } from '@hardening/core';
 * consoleLogger({ service: 'sms' }).warn({ attempt: 2 }, 'retrying');
 * ```
 */
export function consoleLogger(bindings: Record<string, unknown> = {}): Logger {
  return {
    debug: () => {},
    info: write('info', bindings),
    warn: write('warn', bindings),
    error: write('error', bindings),
    child: (more) => consoleLogger({ ...bindings, ...more }),
  };
}

/**
 * A logger that drops everything (for tests, or to silence a component on purpose).
 *
 * @example
 * ```ts
 * import { silentLogger } from '@hardening/core';
 * silentLogger.error({}, 'nobody hears this');
 * ```
 */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
