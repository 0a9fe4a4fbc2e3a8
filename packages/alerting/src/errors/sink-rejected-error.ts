import { HardeningError, hasErrorCode } from '@hardening/core';

/**
 * A provider answered but refused the alert: an HTTP error status (`status`, with the
 * response `headers` so `Retry-After` is honoured), or a refusal inside a 200 answer
 * (Slack's `{ ok: false, error }`, in `providerCode`). `safeCall` retries it when the
 * status is transient (429, 5xx) and gives up at once otherwise.
 *
 * @example
 * ```ts
 * import { SinkRejectedError, isSinkRejectedError } from '@hardening/alerting';
 * const error = new SinkRejectedError('webhook', 'HTTP 503 from the receiver', { status: 503 });
 * console.log(isSinkRejectedError(error), error.status); // true 503
 * ```
 */
export class SinkRejectedError extends HardeningError<'ALERT_SINK_REJECTED'> {
  /** Name of the sink. */
  readonly sink: string;
  /** HTTP status, when the refusal was one. */
  readonly status: number | undefined;
  /** The provider's own error code (`channel_not_found`, `21211`, ...). */
  readonly providerCode: string | undefined;
  /** Response headers (lower-case names), for `Retry-After`. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** Whether a retry may succeed (a 429 or 5xx status, or a refusal the provider documents as temporary). */
  readonly transient: boolean;

  /**
   * @param sink - Name of the sink.
   * @param message - What the provider said (no secrets, no phone numbers).
   * @param details - `status`, `providerCode`, `headers`, `transient` (default: from the status), `cause`.
   */
  constructor(
    sink: string,
    message: string,
    details: {
      status?: number | undefined;
      providerCode?: string | undefined;
      headers?: Record<string, string> | undefined;
      transient?: boolean | undefined;
      cause?: unknown;
    } = {},
  ) {
    super('ALERT_SINK_REJECTED', `${sink}: ${message}`, { cause: details.cause });
    this.sink = sink;
    this.status = details.status;
    this.providerCode = details.providerCode;
    this.headers = details.headers;
    this.transient = details.transient ?? (details.status !== undefined && (details.status === 408 || details.status === 429 || details.status >= 500));
  }
}

/**
 * True when `error` is a {@link SinkRejectedError}, from any copy of the package.
 *
 * @param error - Anything caught.
 * @returns Whether a provider refused an alert.
 * @example
 * ```ts
 * import { isSinkRejectedError } from '@hardening/alerting';
 * const refused = (e: unknown) => isSinkRejectedError(e) && e.status === 400;
 * ```
 */
export function isSinkRejectedError(error: unknown): error is SinkRejectedError {
  return hasErrorCode(error, 'ALERT_SINK_REJECTED');
}
