import type { Logger } from '@hardening/core';
import { consoleLogger, scrubText, scrubValue } from '@hardening/core';

/**
 * The slice of `@sentry/node` that {@link reportError} calls.
 *
 * @example
 * ```ts
 * import * as Sentry from '@sentry/node';
 * import { reportError } from '@hardening/alerting';
 * reportError(new Error('boom'), { step: 'reply' }, { sentry: Sentry });
 * ```
 */
export interface SentryCaptureLike {
  captureException(exception: unknown, hint?: Record<string, unknown>): string;
}

/**
 * Options for {@link reportError}.
 *
 * @example
 * ```ts
 * import * as Sentry from '@sentry/node';
 * import type { ReportErrorOptions } from '@hardening/alerting';
 * const options: ReportErrorOptions = { sentry: Sentry, logger: console as never, tags: { component: 'webhooks' } };
 * ```
 */
export interface ReportErrorOptions {
  /** The `@sentry/node` module, when Sentry is on. */
  readonly sentry?: SentryCaptureLike;
  /**
   * Where the error line goes.
   * @default JSON lines on the console
   */
  readonly logger?: Logger;
  /** Sentry tags (searchable), e.g. `{ component: 'stripe-webhook' }`. */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Reports an error with context: one scrubbed `error` log line, and a Sentry event (with
 * the context as scrubbed `extra`) when Sentry is given. Never throws.
 *
 * @param error - What was caught.
 * @param context - What was going on (ids, state); phone numbers, emails and secrets are scrubbed.
 * @param options - See {@link ReportErrorOptions}.
 * @returns The Sentry event id, when sent.
 * @example
 * ```ts
 * import * as Sentry from '@sentry/node';
 * import { reportError } from '@hardening/alerting';
 * try {
 *   await provisionNumber(clientId);
 * } catch (error) {
 *   reportError(error, { clientId, step: 'provision' }, { sentry: Sentry, tags: { component: 'onboarding' } });
 * }
 * ```
 */
export function reportError(error: unknown, context: Readonly<Record<string, unknown>> = {}, options: ReportErrorOptions = {}): string | undefined {
  const logger = options.logger ?? consoleLogger({ component: 'errors' });
  const scrubbedContext = scrubValue(context) as Record<string, unknown>;
  const err =
    error instanceof Error
      ? { name: error.name, message: scrubText(error.message), stack: error.stack === undefined ? undefined : scrubText(error.stack) }
      : { message: scrubText(String(error)) };
  try {
    logger.error({ err, context: scrubbedContext, tags: options.tags }, `error reported: ${err.message}`);
  } catch {
    console.error(JSON.stringify({ level: 'error', msg: `error reported: ${err.message}`, context: scrubbedContext }));
  }
  if (options.sentry === undefined) return undefined;
  try {
    return options.sentry.captureException(error, { extra: scrubbedContext, ...(options.tags !== undefined ? { tags: { ...options.tags } } : {}) });
  } catch (captureError) {
    logger.warn({ err: scrubText(String(captureError)) }, 'reportError: Sentry capture failed');
    return undefined;
  }
}
