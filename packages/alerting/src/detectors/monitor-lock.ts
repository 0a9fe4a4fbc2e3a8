import { randomUUID } from 'node:crypto';
import type { RedisEvalClient } from '../store/redis-store.js';

/**
 * Decides which instance runs a {@link RuntimeMonitor} round. `tryAcquire` resolves true
 * for exactly one instance per (name, round).
 *
 * @example
 * ```ts
 * import type { MonitorLock } from '@hardening/alerting';
 * const everyone: MonitorLock = { tryAcquire: async () => true }; // single instance
 * ```
 */
export interface MonitorLock {
  /** `redis`, `postgres`, or your own. */
  readonly kind: string;
  /**
   * Whether this instance runs round `round` of monitor `name`.
   *
   * @param request - The monitor's name, the round (interval number since the epoch), and how long a round lasts.
   */
  tryAcquire(request: { readonly name: string; readonly round: number; readonly ttlMs: number }): Promise<boolean>;
  /** Gives the lock up (the monitor stopped). */
  release?(name: string): Promise<void>;
}

/**
 * Options for {@link createRedisMonitorLock}.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRedisMonitorLock } from '@hardening/alerting';
 * const lock = createRedisMonitorLock({ redis: new Redis(process.env.REDIS_URL!) });
 * ```
 */
export interface RedisMonitorLockOptions {
  /** An `ioredis` client. */
  readonly redis: RedisEvalClient;
  /**
   * Key prefix.
   * @default 'monitor-lock'
   */
  readonly prefix?: string;
}

/**
 * A {@link MonitorLock} on Redis: one `SET key NX PX` per (monitor, round), so whichever
 * instance asks first runs the round and the others skip it; the key expires with the
 * round. An instance that dies mid-round loses nothing but that round.
 *
 * @param options - See {@link RedisMonitorLockOptions}.
 * @returns The lock.
 * @throws TypeError when `redis` is not an ioredis client.
 * @example
 * ```ts
 * const monitor = new RuntimeMonitor({ lock: createRedisMonitorLock({ redis }), alerts });
 * ```
 */
export function createRedisMonitorLock(options: RedisMonitorLockOptions): MonitorLock {
  const redis = options?.redis;
  if (typeof redis?.eval !== 'function') throw new TypeError('Expected `redis` to be an ioredis client (with eval).');
  const prefix = options.prefix ?? 'monitor-lock';
  const owner = randomUUID();
  return {
    kind: 'redis',
    async tryAcquire({ name, round, ttlMs }) {
      const reply = await redis.eval(`return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])`, 1, `${prefix}:${name}:${round}`, owner, Math.max(1, Math.round(ttlMs)));
      return reply === 'OK';
    },
  };
}

/**
 * The slice of a dedicated `pg.Client` the PostgreSQL lock uses. It must be one
 * connection, not a pool: an advisory lock belongs to the session that took it.
 */
export interface PgSessionClient {
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/**
 * Options for {@link createPostgresMonitorLock}.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createPostgresMonitorLock } from '@hardening/alerting';
 * const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
 * await client.connect();
 * const lock = createPostgresMonitorLock({ client });
 * ```
 */
export interface PostgresMonitorLockOptions {
  /** A connected, dedicated `pg.Client` (not a `pg.Pool`). */
  readonly client: PgSessionClient;
  /**
   * First key of the two-key advisory lock, to keep clear of other advisory locks.
   * @default 0x41_4c_52_54 ('ALRT')
   */
  readonly namespace?: number;
}

/** A 31-bit FNV-1a hash of a name: the second key of the advisory lock. */
function nameKey(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash & 0x7fffffff;
}

/**
 * A {@link MonitorLock} on a PostgreSQL session advisory lock: the instance whose session
 * holds `pg_try_advisory_lock(namespace, hash(name))` is the leader and runs every round;
 * the others skip. When the leader's process dies, its connection closes, PostgreSQL
 * frees the lock, and the next instance to try takes over.
 *
 * @param options - See {@link PostgresMonitorLockOptions}.
 * @returns The lock.
 * @throws TypeError when `client` is missing or is a pool.
 * @example
 * ```ts
 * const monitor = new RuntimeMonitor({ lock: createPostgresMonitorLock({ client }), alerts });
 * ```
 */
export function createPostgresMonitorLock(options: PostgresMonitorLockOptions): MonitorLock {
  const client = options?.client as PgSessionClient & { totalCount?: unknown };
  if (typeof client?.query !== 'function') throw new TypeError('Expected `client` to be a connected pg.Client.');
  if (client.totalCount !== undefined) {
    throw new TypeError('Expected `client` to be one dedicated pg.Client, not a pg.Pool: an advisory lock belongs to the session (connection) that took it.');
  }
  const namespace = options.namespace ?? 0x414c5254;
  if (!Number.isInteger(namespace) || namespace < -(2 ** 31) || namespace >= 2 ** 31) throw new TypeError('Expected `namespace` to be a 32-bit integer.');
  const held = new Set<string>();
  return {
    kind: 'postgres',
    async tryAcquire({ name }) {
      // The session lock is re-entrant: taking it again while held would stack a second
      // hold, so the leader remembers it already has it.
      if (held.has(name)) {
        try {
          await client.query('SELECT 1');
          return true;
        } catch {
          held.delete(name);
          return false;
        }
      }
      try {
        const { rows } = await client.query('SELECT pg_try_advisory_lock($1::int, $2::int) AS locked', [namespace, nameKey(name)]);
        const locked = rows[0]?.locked === true;
        if (locked) held.add(name);
        return locked;
      } catch {
        return false;
      }
    },
    async release(name) {
      if (!held.delete(name)) return;
      await client.query('SELECT pg_advisory_unlock($1::int, $2::int)', [namespace, nameKey(name)]).catch(() => undefined);
    },
  };
}
