/** A response the framework adapters write as is (internal shape shared by the handler and adapters). */
export interface PlainResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

/** An RFC 9457 `application/problem+json` response. */
export function problem(status: number, detail: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): PlainResponse {
  return {
    status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify({ type: 'about:blank', title: titles[status] ?? 'Error', status, detail, ...extra }),
  };
}

/** A JSON response that must not be cached. */
export function json(status: number, body: unknown, contentType = 'application/json'): PlainResponse {
  return { status, headers: { 'content-type': contentType, 'cache-control': 'no-store' }, body: JSON.stringify(body) };
}
