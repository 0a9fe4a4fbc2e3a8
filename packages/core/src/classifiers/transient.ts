import { hasErrorCode } from '../errors/hardening-error.js';
import { isTransientPostgresError, isTransientPrismaError, isTransientRedisError } from './database.js';
import { isTransientHttpError } from './http.js';
import { isNetworkError } from './network.js';

/**
 * The default `retryable` predicate of `safeCall`: true for our own attempt timeouts,
 * network failures, transient HTTP statuses (408, 425, 429, 5xx gateway/overload),
 * transient Prisma and PostgreSQL errors, and transient Redis errors. Everything else (a
 * 400, a validation error, a unique-constraint violation, a bug) fails at once.
 *
 * @param error - Anything caught.
 * @returns Whether a retry may succeed.
 * @example
 * ```ts
 * import { isTransientError } from '@hardening/core';
 * isTransientError(Object.assign(new Error('Service Unavailable'), { status: 503 })); // true
 * isTransientError(new TypeError('x is undefined')); // false
 * ```
 */
export function isTransientError(error: unknown): boolean {
  return (
    hasErrorCode(error, 'TIMEOUT') ||
    isNetworkError(error) ||
    isTransientHttpError(error) ||
    isTransientPrismaError(error) ||
    isTransientPostgresError(error) ||
    isTransientRedisError(error)
  );
}
