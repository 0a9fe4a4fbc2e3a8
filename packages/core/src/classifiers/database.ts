import { causeChain, field } from './error-fields.js';

/**
 * Prisma error codes worth retrying: P1001 (can't reach the database), P1002 (timed
 * out reaching it), P1008 (operation timed out), P1017 (server closed the connection),
 * P2024 (timed out waiting for a pool connection), P2034 (write conflict or deadlock:
 * retry the transaction).
 */
const transientPrismaCodes = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2034']);

/**
 * PostgreSQL SQLSTATEs worth retrying: class 08 (connection exception), 40001
 * (serialization failure), 40P01 (deadlock), 53300 (too many connections), 55P03 (lock not
 * available), 57P01/57P02/57P03 (admin or crash shutdown, cannot connect now).
 */
const transientSqlStates = new Set(['40001', '40P01', '53300', '55P03', '57P01', '57P02', '57P03']);

/**
 * Kinds of Prisma driver adapter errors (`meta.driverAdapterError.cause.kind`) worth
 * retrying: what `@prisma/adapter-pg` reports, for raw queries, instead of P1001/P1017.
 */
const transientAdapterKinds = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TransactionWriteConflict']);

/** Messages of connection losses that node-postgres and ioredis raise without a code. */
const connectionLostMessages = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Connection is closed.',
];

/** Redis replies that mean "not now": loading, failover, cluster resharding. */
const transientRedisReplies = ['LOADING', 'TRYAGAIN', 'CLUSTERDOWN', 'MASTERDOWN', 'READONLY', 'BUSY '];

/**
 * True for Prisma errors worth retrying (P1001, P1002, P1008, P1017, P2024, P2034), for the
 * driver adapter error kinds that mean the same (`DatabaseNotReachable`, `ConnectionClosed`,
 * `SocketTimeout`, `TooManyConnections`, `TransactionWriteConflict`: what raw queries
 * report through `@prisma/adapter-pg`, as P2010), and for the PostgreSQL errors a driver
 * adapter passes through (see {@link isTransientPostgresError}).
 *
 * @param error - Anything caught.
 * @returns Whether a retry may succeed.
 * @example
 * ```ts
 * import { isTransientPrismaError } from '@hardening/core';
 * isTransientPrismaError({ code: 'P1001' }); // true
 * isTransientPrismaError({ code: 'P2002' }); // false: unique constraint
 * ```
 */
export function isTransientPrismaError(error: unknown): boolean {
  for (const link of causeChain(error)) {
    const code = field(link, 'code');
    if (typeof code === 'string' && transientPrismaCodes.has(code)) return true;
    const kind = field(link, 'kind');
    if (typeof kind === 'string' && transientAdapterKinds.has(kind)) return true;
  }
  return isTransientPostgresError(error);
}

/**
 * True for PostgreSQL errors worth retrying, by SQLSTATE (`code` on node-postgres errors,
 * `originalCode` on Prisma driver adapter errors): connection exceptions (class 08),
 * serialization failures, deadlocks, too many connections, lock not available, shutdowns;
 * and node-postgres connection losses that carry no SQLSTATE.
 *
 * @param error - Anything caught.
 * @returns Whether a retry may succeed.
 * @example
 * ```ts
 * import { isTransientPostgresError } from '@hardening/core';
 * isTransientPostgresError({ code: '40P01' }); // true: deadlock
 * ```
 */
export function isTransientPostgresError(error: unknown): boolean {
  for (const link of causeChain(error)) {
    for (const key of ['code', 'originalCode']) {
      const code = field(link, key);
      if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && (code.startsWith('08') || transientSqlStates.has(code))) return true;
    }
    const message = field(link, 'message');
    if (typeof message === 'string' && connectionLostMessages.some((m) => message.includes(m))) return true;
  }
  return false;
}

/**
 * True for Redis (ioredis) errors worth retrying: a closed connection, too many retries
 * per request, and replies such as LOADING, TRYAGAIN, CLUSTERDOWN or READONLY.
 *
 * @param error - Anything caught.
 * @returns Whether a retry may succeed.
 * @example
 * ```ts
 * import { isTransientRedisError } from '@hardening/core';
 * isTransientRedisError(new Error('Connection is closed.')); // true
 * ```
 */
export function isTransientRedisError(error: unknown): boolean {
  for (const link of causeChain(error)) {
    if (field(link, 'name') === 'MaxRetriesPerRequestError') return true;
    const message = field(link, 'message');
    if (typeof message !== 'string') continue;
    if (message === 'Connection is closed.' || message.startsWith("Stream isn't writeable")) return true;
    if (field(link, 'name') === 'ReplyError' && transientRedisReplies.some((p) => message.startsWith(p))) return true;
  }
  return false;
}
