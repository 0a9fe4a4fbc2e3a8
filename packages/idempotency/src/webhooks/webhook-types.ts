/** Request headers as Node gives them: names in lower case. */
export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** An answer to a webhook: what the first delivery got, and what duplicates get again. */
export interface WebhookReply {
  /** Status code. */
  readonly status: number;
  /** Response headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** Response body. */
  readonly body: string;
}

/** What a dedup helper returns: the reply to send, and whether the delivery was a duplicate. */
export interface WebhookResult extends WebhookReply {
  /** The provider: `twilio`, `slack`, `stripe`, `standard-webhooks` or your own name. */
  readonly provider: string;
  /** The dedup key derived from the request (without the provider prefix). */
  readonly key: string;
  /** True when the handler did not run because this delivery was already processed (or is being processed). */
  readonly duplicate: boolean;
  /** True when the first delivery is still being processed; the reply then asks the provider to retry later. */
  readonly inProgress: boolean;
  /** True when the reply is sent before its dedup record was written (see `recordTimeoutMs`). */
  readonly recordPending: boolean;
}

/** Reads one header value (the first, when repeated). */
export function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value[0];
}
