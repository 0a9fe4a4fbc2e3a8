import { createHash } from 'node:crypto';
import { consoleLogger, scrubText, type Logger } from '@hardening/core';
import type { Clock } from '../clock.js';
import type { Timers } from '@hardening/core';
import type { ResultCodec } from '../codec.js';
import { isIdempotencyInProgressError } from '../errors/idempotency-in-progress-error.js';
import { isIdempotencyStoreError } from '../errors/idempotency-store-error.js';
import { isInvalidIdempotencyKeyError } from '../errors/invalid-idempotency-key-error.js';
import { isIdempotencyLeaseLostError } from '../errors/lease-lost-error.js';
import { isIdempotencyPayloadMismatchError } from '../errors/payload-mismatch-error.js';
import { IdempotencyGuard, type InProgressPolicy } from '../guard.js';
import type { IdempotencyStore } from '../store.js';
import { parseIdempotencyKeyHeader } from './idempotency-key-header.js';
import { problemResponse, type HttpResponseSnapshot } from './problem-details.js';

/** The request shape the handler reads: Node's `IncomingMessage` (and Express's `req`) fit. */
export interface IdempotentHttpRequest {
  /** `POST`, `PATCH`, ... */
  readonly method: string;
  /** Path and query, e.g. `/v1/messages?draft=false`. */
  readonly url: string;
  /** Header names in lower case, as Node gives them. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The parsed body (after your body parser), if any. */
  readonly body?: unknown;
}

/** What {@link IdempotencyKeyHandler.handle} did. */
export type IdempotentHttpOutcome = 'executed' | 'replayed' | 'rejected' | 'skipped';

/**
 * Options for {@link createIdempotencyKeyHandler} and `idempotencyKeyMiddleware`.
 *
 * @example
 * ```ts
 * const options: IdempotencyKeyOptions = {
 *   store,
 *   required: true,
 *   methods: ['POST'],
 *   scope: (req) => String(req.headers['x-api-key-id'] ?? ''),
 * };
 * ```
 */
export interface IdempotencyKeyOptions {
  /** Where records live. */
  readonly store: IdempotencyStore;
  /**
   * Whether a request without the header is refused with 400. When `false`, such a request
   * passes through unguarded.
   * @default true
   */
  readonly required?: boolean | undefined;
  /**
   * Methods the header applies to (others pass through, never buffered).
   * @default ['POST', 'PATCH']
   */
  readonly methods?: readonly string[] | undefined;
  /**
   * The request header carrying the key.
   * @default 'idempotency-key'
   */
  readonly headerName?: string | undefined;
  /**
   * Header added to a replayed response.
   * @default 'idempotent-replayed' (value `true`, as Stripe does)
   */
  readonly replayHeader?: string | undefined;
  /**
   * Keys are per client: return the caller's identity (account id, API key id) so two
   * clients choosing the same key never see each other's responses.
   * @default () => '' (one key space)
   */
  readonly scope?: ((request: IdempotentHttpRequest) => string) | undefined;
  /**
   * What must be identical for a request to count as the same one; its canonical-JSON
   * fingerprint is compared (same key, other payload: 422).
   * @default method, URL and parsed body
   */
  readonly fingerprint?: ((request: IdempotentHttpRequest) => unknown) | undefined;
  /**
   * Which answers are stored and replayed. The rest release the key, so a retry runs again.
   * @default 2xx, 3xx and 4xx except 408, 409, 423, 425 and 429 (transient ones); never 5xx
   */
  readonly shouldStore?: ((status: number) => boolean) | undefined;
  /**
   * Lease of a request in progress (see the guard's `leaseMs`).
   * @default 60_000
   */
  readonly leaseMs?: number | undefined;
  /**
   * How long responses are kept for replay.
   * @default 86_400_000 (24 h)
   */
  readonly retentionMs?: number | undefined;
  /**
   * A concurrent duplicate: `'error'` answers 409 at once; `'wait'` waits (bounded) for the
   * first response and replays it.
   * @default 'error'
   */
  readonly onInProgress?: InProgressPolicy | undefined;
  /**
   * Longest wait with `onInProgress: 'wait'`.
   * @default 10_000
   */
  readonly waitTimeoutMs?: number | undefined;
  /**
   * The `type` member of problem+json answers.
   * @default 'about:blank'
   */
  readonly problemType?: string | undefined;
  /**
   * Where store failures and refused requests are logged.
   * @default consoleLogger()
   */
  readonly logger?: Logger | undefined;
  /**
   * Time source.
   * @default Date.now
   */
  readonly clock?: Clock | undefined;
  /**
   * Timers of the guard underneath (lease signal, waits, record retries); see {@link Timers}.
   * @default the global setTimeout/clearTimeout
   * @example
   * ```ts
   * { timers: { setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) } }
   * ```
   */
  readonly timers?: Timers | undefined;
}

/** What {@link IdempotencyKeyHandler.handle} returns. */
export interface IdempotentHttpResult {
  /** What to send. */
  readonly response: HttpResponseSnapshot;
  /** What happened. */
  readonly outcome: IdempotentHttpOutcome;
}

const transient4xx = new Set([408, 409, 423, 425, 429]);

const defaults = {
  required: true,
  methods: ['POST', 'PATCH'] as readonly string[],
  headerName: 'idempotency-key',
  replayHeader: 'idempotent-replayed',
  problemType: 'about:blank',
  shouldStore: (status: number) => status < 500 && !transient4xx.has(status),
  fingerprint: (request: IdempotentHttpRequest): unknown => ({ method: request.method.toUpperCase(), url: request.url, body: request.body ?? null }),
};

/** Headers that describe one transfer, not the resource: never stored or replayed. */
const unstoredHeaders = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date', 'set-cookie', 'upgrade', 'trailer']);

interface StoredResponse {
  s: number;
  h: Record<string, string | string[]>;
  b: string;
}

const responseCodec: ResultCodec<unknown> = {
  serialize: (value) => {
    const response = value as HttpResponseSnapshot;
    const headers: Record<string, string | string[]> = {};
    for (const [name, header] of Object.entries(response.headers)) {
      const lower = name.toLowerCase();
      if (!unstoredHeaders.has(lower)) headers[lower] = typeof header === 'string' ? header : [...header];
    }
    return JSON.stringify({ s: response.status, h: headers, b: Buffer.from(response.body).toString('base64') } satisfies StoredResponse);
  },
  deserialize: (text) => {
    const stored = JSON.parse(text) as StoredResponse;
    return { status: stored.s, headers: stored.h, body: Buffer.from(stored.b, 'base64') } satisfies HttpResponseSnapshot;
  },
};

/** `Array.isArray` alone would narrow to `any[]` and leave the entries unchecked. */
function isStringList(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((entry) => typeof entry === 'string');
}

/**
 * The framework-agnostic core of the `Idempotency-Key` header (IETF httpapi draft): wraps
 * one request's handling so a retried request gets the first response instead of running
 * again. Use `idempotencyKeyMiddleware` for Express; call this from anything else.
 *
 * Answers: missing key where required 400; malformed key 400; same key still in progress
 * 409 (with `Retry-After`); same key with another payload 422; store unreachable 503; all
 * as problem+json. A completed key replays the stored status, headers and body with
 * `Idempotent-Replayed: true`.
 */
export class IdempotencyKeyHandler {
  private readonly required: boolean;
  private readonly methods: ReadonlySet<string>;
  private readonly headerName: string;
  private readonly replayHeader: string;
  private readonly scope: ((request: IdempotentHttpRequest) => string) | undefined;
  private readonly fingerprint: (request: IdempotentHttpRequest) => unknown;
  private readonly shouldStore: (status: number) => boolean;
  private readonly problemType: string;
  private readonly logger: Logger;
  private readonly guard: IdempotencyGuard;
  private readonly guardOptions: ConstructorParameters<typeof IdempotencyGuard>[0];

  /**
   * @param options - See {@link IdempotencyKeyOptions}.
   * @throws TypeError naming the first invalid option.
   */
  constructor(options: IdempotencyKeyOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('Expected `options` to be an object.');
    const {
      required = defaults.required,
      methods = defaults.methods,
      headerName = defaults.headerName,
      replayHeader = defaults.replayHeader,
      problemType = defaults.problemType,
      fingerprint = defaults.fingerprint,
      shouldStore = defaults.shouldStore,
      logger = consoleLogger({ component: 'idempotency-key' }),
    } = options;
    if (!isStringList(methods)) throw new TypeError('Expected `methods` to be an array of HTTP method names.');
    if (typeof headerName !== 'string' || headerName.length === 0) throw new TypeError('Expected `headerName` to be a non-empty string.');
    if (typeof replayHeader !== 'string' || replayHeader.length === 0) throw new TypeError('Expected `replayHeader` to be a non-empty string.');
    for (const [name, fn] of [
      ['fingerprint', fingerprint],
      ['shouldStore', shouldStore],
      ['scope', options.scope ?? (() => '')],
    ] as const) {
      if (typeof fn !== 'function') throw new TypeError(`Expected \`${name}\` to be a function.`);
    }
    this.required = required;
    this.methods = new Set(methods.map((m) => m.toUpperCase()));
    this.headerName = headerName.toLowerCase();
    this.replayHeader = replayHeader.toLowerCase();
    this.scope = options.scope;
    this.fingerprint = fingerprint;
    this.shouldStore = shouldStore;
    this.problemType = problemType;
    this.logger = logger;
    this.guardOptions = {
      store: options.store,
      namespace: 'http:',
      leaseMs: options.leaseMs,
      retentionMs: options.retentionMs,
      onInProgress: options.onInProgress,
      waitTimeoutMs: options.waitTimeoutMs,
      codec: responseCodec,
      logger,
      clock: options.clock,
      timers: options.timers,
    };
    this.guard = new IdempotencyGuard(this.guardOptions);
  }

  /**
   * Whether a request is guarded: its method is one of `methods`, and it carries the header
   * or the header is required. Adapters pass other requests straight through (unbuffered).
   *
   * @param request - The request.
   * @returns Whether {@link IdempotencyKeyHandler.handle} applies.
   */
  appliesTo(request: IdempotentHttpRequest): boolean {
    if (!this.methods.has(request.method.toUpperCase())) return false;
    return this.required || request.headers[this.headerName] !== undefined;
  }

  /**
   * Handles one request: runs `next` (your handler, producing the response) at most once
   * per key, or answers for it.
   *
   * @param request - The request.
   * @param next - Produces the response; rejecting means no response was produced (the key
   *   is released and the rejection propagates).
   * @returns The response to send and what happened.
   * @throws What `next` throws.
   * @example
   * ```ts
   * const handler = createIdempotencyKeyHandler({ store });
   * const { response } = await handler.handle(
   *   { method: 'POST', url: '/v1/messages', headers: { 'idempotency-key': 'k1' }, body: { to: 'a' } },
   *   async () => ({ status: 201, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"id":1}') }),
   * );
   * ```
   */
  async handle(request: IdempotentHttpRequest, next: () => Promise<HttpResponseSnapshot>): Promise<IdempotentHttpResult> {
    if (!this.appliesTo(request)) return { response: await next(), outcome: 'skipped' };
    const parsed = parseIdempotencyKeyHeader(request.headers[this.headerName]);
    if (!parsed.ok) {
      const title = parsed.reason === 'missing' ? 'Idempotency-Key is missing' : 'Idempotency-Key is invalid';
      return this.reject(400, title, `${parsed.detail} This operation is idempotent and requires a correct Idempotency-Key.`);
    }
    const guard = this.guardFor(request);
    let produced: HttpResponseSnapshot | undefined;
    try {
      const outcome = await guard.execute(
        parsed.key,
        async () => {
          produced = await next();
          return produced;
        },
        { payload: this.fingerprint(request), shouldStore: (response) => this.shouldStore(response.status) },
      );
      if (outcome.status === 'executed') return { response: outcome.value, outcome: 'executed' };
      const replayed = outcome.value;
      return { response: { ...replayed, headers: { ...replayed.headers, [this.replayHeader]: 'true' } }, outcome: 'replayed' };
    } catch (error) {
      if (produced !== undefined && (isIdempotencyLeaseLostError(error) || isIdempotencyStoreError(error))) {
        // The handler ran and answered; answering 5xx now would invite a retry that runs it again.
        this.logger.error(
          { url: scrubText(request.url), err: scrubText((error as Error).message) },
          'idempotency-key: response sent but not recorded for replay',
        );
        return { response: produced, outcome: 'executed' };
      }
      if (isIdempotencyInProgressError(error)) {
        const seconds = Math.max(1, Math.ceil((error.retryAfterMs ?? 1000) / 1000));
        return this.reject(
          409,
          'A request is outstanding for this Idempotency-Key',
          'A request with the same Idempotency-Key is still being processed. Retry later.',
          { 'retry-after': String(Math.min(seconds, 60)) },
        );
      }
      if (isIdempotencyPayloadMismatchError(error)) {
        return this.reject(
          422,
          'Idempotency-Key is already used',
          'This Idempotency-Key was used with a different request payload. Use a new key for a new request.',
        );
      }
      if (isInvalidIdempotencyKeyError(error)) return this.reject(400, 'Idempotency-Key is invalid', error.message);
      if (isIdempotencyStoreError(error)) {
        return this.reject(503, 'Idempotency store unavailable', 'The request was not processed. Retry later with the same Idempotency-Key.', {
          'retry-after': '1',
        });
      }
      throw error;
    }
  }

  private guardFor(request: IdempotentHttpRequest): IdempotencyGuard {
    if (this.scope === undefined) return this.guard;
    const scope = this.scope(request);
    if (scope === '') return this.guard;
    // Hashed so any identity fits, and none is written to the store in clear.
    const tag = createHash('sha256').update(scope).digest('base64url').slice(0, 22);
    return new IdempotencyGuard({ ...this.guardOptions, namespace: `http:${tag}:` });
  }

  private reject(status: number, title: string, detail: string, headers: Record<string, string> = {}): IdempotentHttpResult {
    return { response: problemResponse({ type: this.problemType, title, status, detail }, headers), outcome: 'rejected' };
  }
}

/**
 * Creates an {@link IdempotencyKeyHandler}.
 *
 * @param options - See {@link IdempotencyKeyOptions}.
 * @returns The handler.
 * @throws TypeError naming the first invalid option.
 * @example
 * ```ts
 * import { createIdempotencyKeyHandler, createMemoryStore } from '@hardening/idempotency';
 * const handler = createIdempotencyKeyHandler({ store: createMemoryStore(), methods: ['POST'] });
 * ```
 */
export function createIdempotencyKeyHandler(options: IdempotencyKeyOptions): IdempotencyKeyHandler {
  return new IdempotencyKeyHandler(options);
}
