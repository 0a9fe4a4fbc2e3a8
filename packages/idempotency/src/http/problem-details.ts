/**
 * An RFC 9457 problem details object, the body of every error answer the HTTP helpers send
 * (`Content-Type: application/problem+json`).
 */
export interface ProblemDetails {
  /** A URI naming the problem type; `about:blank` when the status says it all. */
  readonly type: string;
  /** Short summary of the problem type. */
  readonly title: string;
  /** The HTTP status. */
  readonly status: number;
  /** What happened to this request. */
  readonly detail?: string;
  /** Extension members. */
  readonly [extension: string]: unknown;
}

/** A response as the framework-agnostic HTTP helpers produce and replay it. */
export interface HttpResponseSnapshot {
  /** Status code. */
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  /** The body bytes. */
  readonly body: Uint8Array;
}

/**
 * Builds a problem+json response.
 *
 * @param problem - The problem details.
 * @param headers - Extra headers (`retry-after`).
 * @returns A {@link HttpResponseSnapshot}.
 * @example
 * ```ts
 * import { problemResponse } from '@hardening/idempotency';
 * const response = problemResponse({ type: 'about:blank', title: 'Idempotency-Key is missing', status: 400 });
 * // response.headers['content-type'] === 'application/problem+json'
 * ```
 */
export function problemResponse(problem: ProblemDetails, headers: Record<string, string> = {}): HttpResponseSnapshot {
  return {
    status: problem.status,
    headers: { 'content-type': 'application/problem+json', ...headers },
    body: Buffer.from(JSON.stringify(problem)),
  };
}
