import { systemClock } from '@hardening/circuit-breaker';
import { consoleLogger, type Logger } from '@hardening/core';
import { AuthFailureLimiter, type AuthFailureLimitOptions } from './auth-failure-limiter.js';
import { BearerTokens } from './bearer-token.js';
import { isRecoveryRefusedError, type RecoveryRefusedError } from './errors/recovery-refused-error.js';
import { HealthMonitor, type HealthMonitorOptions, type HealthReport } from './health-monitor.js';
import { healthMediaType, renderHealthBody } from './health-response.js';
import { httpStatusFor } from './health-status.js';
import { json, problem, type PlainResponse } from './problem.js';
import type { RecoveryAttempt, RecoveryManager } from './recovery-manager.js';

/**
 * Options for {@link createHealthHandler} and `createHealthRouter`: the HTTP settings, plus
 * either an existing `monitor` or the {@link HealthMonitorOptions} to build one.
 *
 * @example
 * ```ts
 * import type { HealthHandlerOptions } from '@hardening/health';
 * const options: HealthHandlerOptions = {
 *   serviceId: 'sms-gateway',
 *   checks: [],
 *   adminToken: process.env.HEALTH_ADMIN_TOKEN,
 * };
 * ```
 */
export interface HealthHandlerOptions extends HealthMonitorOptions {
  /**
   * An existing monitor (e.g. shared with graceful shutdown). When set, the monitor
   * options (`checks`, `cacheMs`...) must not be.
   * @default a new HealthMonitor built from the monitor options
   */
  readonly monitor?: HealthMonitor | undefined;
  /**
   * Path prefix of the endpoints, relative to where the handler is mounted.
   * @default '/health'
   */
  readonly basePath?: string | undefined;
  /**
   * Token(s) that unlock details (hostnames, error text, latencies) with
   * `Authorization: Bearer <token>`. At least 16 characters; several to rotate. Without
   * it nobody sees details (unless `exposeDetails`).
   * @default undefined
   */
  readonly adminToken?: string | readonly string[] | undefined;
  /**
   * Show details to every caller. Only for endpoints no outsider can reach.
   * @default false
   */
  readonly exposeDetails?: boolean | undefined;
  /**
   * Recovery actions to expose as `POST {basePath}/recover` and
   * `GET {basePath}/recovery-stats`. Requires `recoveryToken` (or `adminToken`).
   * @default undefined (not mounted)
   */
  readonly recovery?: RecoveryManager | undefined;
  /**
   * Bearer token(s) for the recovery endpoints, at least 16 characters.
   * @default adminToken
   */
  readonly recoveryToken?: string | readonly string[] | undefined;
  /**
   * Wrong bearer tokens tolerated per client IP ({@link HealthRequest.clientIp}) and
   * window. Past it, `POST {basePath}/recover` and `GET {basePath}/recovery-stats` answer
   * 429 with `Retry-After` without checking the token, and the probes stop looking at the
   * client's tokens (no details). `false` switches the limit off.
   * @default { max: 10, windowMs: 900_000 }
   */
  readonly authFailureLimit?: AuthFailureLimitOptions | false | undefined;
}

/**
 * A framework-neutral request: what the handler needs from any HTTP stack.
 *
 * @example
 * ```ts
 * import type { HealthRequest } from '@hardening/health';
 * const request: HealthRequest = { method: 'GET', path: '/health/ready' };
 * ```
 */
export interface HealthRequest {
  /** HTTP method. */
  readonly method: string;
  /** Path relative to the mount point, without the query string. */
  readonly path: string;
  /** Query parameters (`?service=postgres`). */
  readonly query?: URLSearchParams | undefined;
  /** The `Authorization` header. */
  readonly authorization?: string | undefined;
  /**
   * The client's address, the key of the wrong-token limit (`req.ip` in Express, which
   * honours `trust proxy`). Requests without one share a single budget.
   */
  readonly clientIp?: string | undefined;
  /** The parsed body, when the framework already parsed it. */
  readonly body?: unknown;
  /** Reads and parses the body; called only after authorization succeeds. */
  readonly readBody?: (() => Promise<unknown>) | undefined;
}

/**
 * A framework-neutral response.
 *
 * @example
 * ```ts
 * import type { HealthResponse } from '@hardening/health';
 * const write = (r: HealthResponse) => console.log(r.status, r.headers['content-type'], r.body);
 * ```
 */
export interface HealthResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * The health endpoints as a plain function over {@link HealthRequest}, plus a Web
 * `fetch(Request)` adapter. `createHealthRouter` is the Express/Node adapter.
 *
 * @example
 * ```ts
 * import { createHealthHandler } from '@hardening/health';
 * const health = createHealthHandler({ serviceId: 'sms-gateway' });
 * const response = await health.fetch(new Request('http://localhost/health/live'));
 * ```
 */
export interface HealthHandler {
  /** The monitor behind the endpoints. */
  readonly monitor: HealthMonitor;
  /** The recovery actions, when mounted. */
  readonly recovery: RecoveryManager | undefined;
  /**
   * Answers a request for one of the endpoints.
   * @returns The response, or `undefined` when the path is not one of ours.
   */
  handle(request: HealthRequest): Promise<HealthResponse | undefined>;
  /**
   * Web-standard adapter (Hono, Bun, Deno, Next route handlers): 404 for other paths.
   * The path is taken from the URL as is (mount at the root or set `basePath`).
   */
  fetch(request: Request): Promise<Response>;
}

const defaults = { basePath: '/health', exposeDetails: false };

/** Shared by every probe answer: frozen, so no adapter can change another's headers. */
const probeHeaders: Readonly<Record<string, string>> = Object.freeze({ 'content-type': healthMediaType, 'cache-control': 'no-store' });

const monitorOptionKeys = [
  'checks',
  'serviceId',
  'version',
  'releaseId',
  'description',
  'timeoutMs',
  'cacheMs',
  'maxStaleMs',
  'waitForStartup',
  'clock',
  'timers',
] as const;

type Route = 'report' | 'live' | 'ready' | 'startup' | 'recover' | 'recovery-stats';

/**
 * Builds the health endpoints, framework-neutral:
 *
 * - `GET {basePath}/live`: liveness, never checks dependencies.
 * - `GET {basePath}/ready`: readiness, critical checks and lifecycle; 503 when not ready.
 * - `GET {basePath}/startup`: passes once start-up work is done.
 * - `GET {basePath}`: every check in `application/health+json`; 200 for pass/warn, 503 for fail.
 * - `POST {basePath}/recover`, `GET {basePath}/recovery-stats`: with `recovery`, behind a bearer token.
 *
 * @param options - See {@link HealthHandlerOptions}.
 * @returns The handler.
 * @throws TypeError when options are invalid, e.g. `recovery` without a token.
 * @example
 * ```ts
 * import { createHealthHandler } from '@hardening/health';
 *
 * const health = createHealthHandler({ serviceId: 'worker' });
 * // Any framework: map its request to { method, path, authorization } and write the answer.
 * const answer = await health.handle({ method: 'GET', path: '/health/ready' });
 * console.log(answer?.status, answer?.body);
 * ```
 */
export function createHealthHandler(options: HealthHandlerOptions = {}): HealthHandler {
  const { monitor: given, basePath = defaults.basePath, exposeDetails = defaults.exposeDetails, recovery } = options;
  if (given !== undefined) {
    const mixed = monitorOptionKeys.filter((key) => options[key] !== undefined);
    if (mixed.length > 0) {
      throw new TypeError(`Expected either \`monitor\` or monitor options, not both (got \`monitor\` and \`${mixed.join('`, `')}\`).`);
    }
  }
  if (typeof basePath !== 'string' || (basePath !== '' && (!basePath.startsWith('/') || basePath.endsWith('/')))) {
    throw new TypeError(`Expected \`basePath\` to be '' or start with '/' and not end with '/', got ${JSON.stringify(basePath)}.`);
  }
  const logger: Logger = options.logger ?? consoleLogger({ component: '@hardening/health' });
  const monitor = given ?? new HealthMonitor({ ...options, logger });
  const adminTokens = options.adminToken === undefined ? undefined : new BearerTokens(options.adminToken, 'adminToken');
  let recoveryTokens: BearerTokens | undefined;
  if (recovery !== undefined) {
    const token = options.recoveryToken ?? options.adminToken;
    if (token === undefined) {
      throw new TypeError(
        'Expected `recoveryToken` (or `adminToken`): refusing to mount POST /recover without a token. Set it from a secret, e.g. process.env.HEALTH_RECOVERY_TOKEN.',
      );
    }
    recoveryTokens = new BearerTokens(token, options.recoveryToken === undefined ? 'adminToken' : 'recoveryToken');
  }

  const limiter = options.authFailureLimit === false ? undefined : new AuthFailureLimiter(options.authFailureLimit ?? {}, options.clock ?? systemClock);
  const clientKey = (request: HealthRequest) => request.clientIp ?? 'unknown';
  /** undefined when the token is valid; the answer otherwise (401, or 429 once limited). */
  const guard = (tokens: BearerTokens, request: HealthRequest): PlainResponse | undefined => {
    const wait = limiter?.blockedFor(clientKey(request));
    if (wait !== undefined) return problem(429, 'Too many wrong tokens from this client; retry later.', {}, retryAfter(wait));
    const verdict = tokens.verify(request.authorization);
    if (verdict === 'valid') return undefined;
    if (verdict === 'invalid') wrongToken(request);
    return unauthorized();
  };
  const wrongToken = (request: HealthRequest) => {
    if (limiter === undefined) return;
    const key = clientKey(request);
    limiter.fail(key);
    if (limiter.blockedFor(key) !== undefined)
      logger.warn({ event: 'health.auth_limited', client: key }, 'health: too many wrong tokens from a client; refusing its tokens for a while');
  };

  const routes = new Map<string, Route>([
    [basePath === '' ? '/' : basePath, 'report'],
    [`${basePath}/live`, 'live'],
    [`${basePath}/ready`, 'ready'],
    [`${basePath}/startup`, 'startup'],
  ]);
  if (recovery !== undefined) {
    routes.set(`${basePath}/recover`, 'recover');
    routes.set(`${basePath}/recovery-stats`, 'recovery-stats');
  }

  // The public body depends only on the status, the lifecycle output and the results,
  // and the monitor hands out the same frozen results array while its checks serve the
  // same cached runs: a probe storm renders each body once, not once per probe.
  const publicBodies = new WeakMap<readonly unknown[], { status: string; output: string | undefined; body: string }>();
  const publicBody = (report: HealthReport): string => {
    const known = publicBodies.get(report.checks);
    if (known !== undefined && known.status === report.status && known.output === report.output) return known.body;
    const body = JSON.stringify(renderHealthBody(report, false));
    publicBodies.set(report.checks, { status: report.status, output: report.output, body });
    return body;
  };
  const probe = (report: HealthReport, detailed: boolean, method: string): PlainResponse => ({
    status: httpStatusFor(report.status),
    headers: probeHeaders,
    body: method === 'HEAD' ? '' : detailed ? JSON.stringify(renderHealthBody(report, true)) : publicBody(report),
  });

  const handle = async (request: HealthRequest): Promise<PlainResponse | undefined> => {
    const path = request.path.length > 1 && request.path.endsWith('/') ? request.path.slice(0, -1) : request.path;
    const route = routes.get(path);
    if (route === undefined) return undefined;
    const method = request.method.toUpperCase();
    try {
      if (route === 'recover') {
        if (method !== 'POST') return problem(405, 'Use POST.', {}, { allow: 'POST' });
        return await recover(request);
      }
      if (method !== 'GET' && method !== 'HEAD') return problem(405, 'Use GET or HEAD.', {}, { allow: 'GET, HEAD' });
      if (route === 'recovery-stats') {
        const denied = guard(recoveryTokens!, request);
        return denied ?? json(200, recovery!.stats());
      }
      // The probes are public: a stray or wrong Authorization header (a proxy's, a probe
      // config's) only means no details; it never fails a liveness or readiness probe.
      let detailed = exposeDetails;
      if (adminTokens !== undefined && request.authorization !== undefined && limiter?.blockedFor(clientKey(request)) === undefined) {
        const verdict = adminTokens.verify(request.authorization);
        if (verdict === 'invalid') wrongToken(request);
        detailed ||= verdict === 'valid';
      }
      switch (route) {
        case 'live':
          return probe(await monitor.live(), detailed, method);
        case 'ready':
          return probe(await monitor.ready(), detailed, method);
        case 'startup':
          return probe(monitor.startup(), detailed, method);
        default:
          return probe(await monitor.report(), detailed, method);
      }
    } catch (error) {
      logger.error({ event: 'health.handler_error', route, error: String(error) }, 'health: endpoint failed');
      return problem(500, 'The health endpoint failed; see the service logs.');
    }
  };

  const recover = async (request: HealthRequest): Promise<PlainResponse> => {
    const denied = guard(recoveryTokens!, request);
    if (denied !== undefined) return denied;
    let body = request.body;
    if (body === undefined && request.readBody !== undefined) {
      try {
        body = await request.readBody();
      } catch (error) {
        return problem(400, `Could not read the body: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const fromBody = typeof body === 'object' && body !== null ? (body as { service?: unknown }).service : undefined;
    const service = fromBody ?? request.query?.get('service') ?? undefined;
    if (typeof service !== 'string' || service.length === 0) {
      return problem(400, 'Expected a JSON body { "service": "<name>" } or { "service": "all" }.', {
        services: recovery!.serviceNames,
      });
    }
    if (service === 'all') {
      const { attempts, refused } = await recovery!.recoverAll('manual');
      const results = [...attempts.map(attemptBody), ...refused.map(refusalBody)];
      if (attempts.length === 0 && refused.length > 0) {
        const wait = Math.min(...refused.map((r) => r.retryAfterMs ?? Infinity));
        return problem(429, 'Every recovery action is rate-limited.', { results }, Number.isFinite(wait) ? retryAfter(wait) : {});
      }
      if (attempts.some((a) => a.outcome === 'failed')) return problem(500, 'A recovery action failed.', { results });
      return json(200, { results });
    }
    try {
      const attempt = await recovery!.recover(service, 'manual');
      if (attempt.outcome === 'failed') return problem(500, `Recovery of "${service}" failed.`, { result: attemptBody(attempt) });
      return json(200, { result: attemptBody(attempt) });
    } catch (error) {
      if (!isRecoveryRefusedError(error)) throw error;
      return refusalResponse(error, recovery!.serviceNames);
    }
  };

  const fetchAdapter = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const answer = await handle({
      method: request.method,
      path: url.pathname,
      query: url.searchParams,
      authorization: request.headers.get('authorization') ?? undefined,
      readBody: async () => parseBody(await request.text(), request.headers.get('content-type') ?? ''),
    });
    if (answer === undefined) return new Response('Not Found', { status: 404 });
    return new Response(answer.body === '' ? null : answer.body, { status: answer.status, headers: answer.headers });
  };

  return { monitor, recovery, handle, fetch: fetchAdapter };
}

function unauthorized(): PlainResponse {
  return problem(401, 'A valid bearer token is required.', {}, { 'www-authenticate': 'Bearer realm="health"' });
}

function retryAfter(ms: number): Record<string, string> {
  return { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) };
}

function attemptBody(attempt: RecoveryAttempt): Record<string, unknown> {
  return { ...attempt };
}

function refusalBody(refusal: RecoveryRefusedError): Record<string, unknown> {
  return {
    service: refusal.service,
    outcome: 'refused',
    reason: refusal.reason,
    ...(refusal.retryAfterMs === undefined ? {} : { retryAfterSeconds: Math.max(1, Math.ceil(refusal.retryAfterMs / 1000)) }),
  };
}

function refusalResponse(refusal: RecoveryRefusedError, services: readonly string[]): PlainResponse {
  switch (refusal.reason) {
    case 'unknown-service':
      return problem(404, refusal.message, { services });
    case 'in-progress':
      return problem(409, refusal.message, refusalBody(refusal));
    default:
      return problem(429, refusal.message, refusalBody(refusal), retryAfter(refusal.retryAfterMs ?? 1000));
  }
}

/** Parses a recovery request body: JSON, or a form (`service=postgres`). */
export function parseBody(text: string, contentType: string): unknown {
  if (text.trim() === '') return undefined;
  if (contentType.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error('the body is not valid JSON');
  }
}
