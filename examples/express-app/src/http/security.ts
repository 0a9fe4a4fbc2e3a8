import { createHash, timingSafeEqual } from 'node:crypto';
import cors from 'cors';
import express, { type RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type Options as RateLimitOptions } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Logger } from '@hardening/core';
import { scrubText } from '@hardening/core';
import type { AppContext } from '../app-context.js';
import { requireAdmin } from './admin-auth.js';
import { sendProblem } from './problem.js';

/** The slice of ioredis the rate-limit store uses. */
export interface RateLimitRedis {
  call(command: string, ...args: string[]): Promise<unknown>;
}

/** Largest JSON body the API routes accept (413 above). */
export const jsonBodyLimit = '100kb';

/** The app's security middleware, built once per app (a rate-limit store cannot be shared). */
export interface Security {
  /** CORS with the CORS_ORIGINS allow-list (mounted after the webhooks, which are exempt). */
  readonly cors: RequestHandler;
  /** JSON bodies up to {@link jsonBodyLimit}; larger ones end in 413 problem+json. */
  readonly json: RequestHandler;
  /** 100 requests / 15 min per client IP (RATE_LIMIT_PUBLIC_*), on every non-webhook, non-admin route. */
  readonly publicLimit: RequestHandler;
  /** The admin rate limit (1,000 / hour per token, RATE_LIMIT_ADMIN_*), then the bearer token check. */
  readonly adminGuard: readonly RequestHandler[];
  /** The admin rate limit alone (the console at /admin counts against it per client IP). */
  readonly adminLimit: RequestHandler;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

function bearerOf(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return match === null ? undefined : match[1]!.trim();
}

function limiterLogger(logger: Logger): RateLimitOptions['logger'] {
  // express-rate-limit logs store failures and misconfigurations; keep them in our logs, scrubbed.
  return {
    error: (error, message) => logger.error({ err: scrubText(String(error)) }, message ?? 'rate limiter error'),
    warn: (error, message) => logger.warn({ err: scrubText(String(error)) }, message ?? 'rate limiter warning'),
  };
}

function store(redis: RateLimitRedis, prefix: string): RedisStore {
  return new RedisStore({ prefix, sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply> });
}

function tooMany(scope: string): RateLimitOptions['handler'] {
  return (_req, res, _next, options) => {
    sendProblem(res, {
      title: 'Too many requests',
      status: options.statusCode,
      detail: `Rate limit of ${String(options.limit)} requests per ${Math.round(options.windowMs / 60_000)} min exceeded (${scope}); see Retry-After.`,
    });
  };
}

/**
 * Builds the rate limits, CORS and body limit from the configuration.
 *
 * Rate limits are counted in Redis (rate-limit-redis, keys under `REDIS_KEY_PREFIX:rl:`)
 * when REDIS_URL is set, so they hold across every instance; in memory otherwise (one
 * instance). When Redis fails the request is let through and the failure logged: an
 * outage of the limiter's store must not become an outage of the API.
 *
 * The admin limit is keyed on the SHA-256 of the presented token when it is the admin
 * token (one budget per client, whatever its IP), and on the client IP otherwise, so
 * guessing tokens is limited too.
 */
export function createSecurity(ctx: Pick<AppContext, 'config' | 'logger'> & { readonly redis?: RateLimitRedis | undefined }): Security {
  const { env, adminToken } = ctx.config;
  const prefix = `${env.REDIS_KEY_PREFIX}:rl:`;
  const logger = limiterLogger(ctx.logger);
  const expected = digest(adminToken);

  const publicLimit = rateLimit({
    windowMs: env.RATE_LIMIT_PUBLIC_WINDOW_MS,
    limit: env.RATE_LIMIT_PUBLIC_MAX,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // ipKeyGenerator groups an IPv6 client's /56, so it cannot rotate addresses to escape.
    keyGenerator: (req) => ipKeyGenerator(req.ip ?? 'unknown'),
    handler: tooMany('per client IP'),
    passOnStoreError: true,
    logger,
    ...(ctx.redis === undefined ? {} : { store: store(ctx.redis, `${prefix}public:`) }),
  });

  const adminLimit = rateLimit({
    windowMs: env.RATE_LIMIT_ADMIN_WINDOW_MS,
    limit: env.RATE_LIMIT_ADMIN_MAX,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (req) => {
      const token = bearerOf(req.get('authorization'));
      if (token !== undefined) {
        const presented = digest(token);
        if (timingSafeEqual(presented, expected)) return `token:${presented.toString('hex')}`;
      }
      return `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
    },
    handler: tooMany('per admin client'),
    passOnStoreError: true,
    logger,
    ...(ctx.redis === undefined ? {} : { store: store(ctx.redis, `${prefix}admin:`) }),
  });

  const allowed = new Set(env.CORS_ORIGINS);
  const corsMiddleware = cors({
    // Requests without an Origin (curl, server to server) are not CORS requests: no headers.
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'HEAD', 'POST', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'If-None-Match', 'X-Request-Id'],
    exposedHeaders: ['ETag', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'X-Request-Id'],
    maxAge: 600,
  });

  return {
    cors: corsMiddleware,
    json: express.json({ limit: jsonBodyLimit }),
    publicLimit,
    adminGuard: [adminLimit, requireAdmin(adminToken)],
    adminLimit,
  };
}
