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
      const reply = await redis.eval(
        `return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])`,
        1,
        `${prefix}:${name}:${round}`,
        owner,
        Math.max(1, Math.round(ttlMs)),
      );
      return reply === 'OK';
    },
  };
}

/**
 * The slice of a dedicated `pg.Client` the PostgreSQL lock uses. It must be one
 * connection, not a pool: an advisory lock belongs to the session that took it.
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

/** A 31-bit FNV-1a hash: the second key of the advisory lock. */
function lockKey(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash & 0x7fffffff;
}

/**
 * A {@link MonitorLock} on PostgreSQL session advisory locks: one lock per (monitor,
 * round), `pg_try_advisory_lock(namespace, hash(name:round))`. The instance that gets it
 * runs the round and keeps the lock until its next attempt (a round later), so instances
 * asking later in the same round are refused. When the winner's process dies, its
 * connection closes and PostgreSQL frees its locks.
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
  /** Round locks held, per monitor name: round -> key. */
  const held = new Map<string, Map<number, number>>();
  const unlock = (key: number) => client.query('SELECT pg_advisory_unlock($1::int, $2::int)', [namespace, key]).catch(() => undefined);

  return {
    kind: 'postgres',
    async tryAcquire({ name, round, ttlMs }) {
      const mine = held.get(name) ?? new Map<number, number>();
      held.set(name, mine);
      // Earlier rounds are over: every instance has tried them by now.
      for (const [past, key] of mine) {
        if (past < round) {
          mine.delete(past);
          await unlock(key);
        }
      }
      if (mine.has(round)) return false;
      const key = lockKey(`${name}:${round}`);
      try {
        const { rows } = await client.query('SELECT pg_try_advisory_lock($1::int, $2::int) AS locked', [namespace, key]);
        if (rows[0]?.locked !== true) return false;
        mine.set(round, key);
        // Held for the rest of the round; freed at the next attempt, or after a round at the latest.
        setTimeout(() => {
          if (mine.get(round) === key) {
            mine.delete(round);
            void unlock(key);
          }
        }, 2 * ttlMs).unref();
        return true;
      } catch {
        return false;
      }
    },
    async release(name) {
      // The current round's lock stays until its timer: releasing it now would let a late
      // instance run the round again.
      const mine = held.get(name);
      if (mine === undefined) return;
      const newest = Math.max(...mine.keys());
      for (const [round, key] of mine) {
        if (round < newest) {
          mine.delete(round);
          await unlock(key);
        }
      }
    },
  };
}
