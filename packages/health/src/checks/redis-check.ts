import type { HealthCheck } from '../health-check.js';
import { assertThreshold, commonFields, roundMs, type CommonCheckOptions } from './check-options.js';

/**
 * The part of a Redis client the check uses: `ping()`, as ioredis and node-redis have.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import type { RedisPingClient } from '@hardening/health';
 * const client: RedisPingClient = new Redis();
 * ```
 */
export interface RedisPingClient {
  ping(): PromiseLike<unknown>;
}

/**
 * Options for {@link redisCheck}.
 *
 * @example
 * ```ts
 * import type { RedisCheckOptions } from '@hardening/health';
 * declare const options: RedisCheckOptions;
 * ```
 */
export interface RedisCheckOptions extends CommonCheckOptions {
  /** An ioredis or node-redis client. */
  readonly client: RedisPingClient;
  /**
   * Round-trip time above which the check warns.
   * @default 250
   */
  readonly warnAboveMs?: number | undefined;
}

/**
 * Redis reachability: `PING`, expecting `PONG`. Reports `redis:responseTime` in ms; `warn`
 * when slower than `warnAboveMs`, `fail` on an error, another reply or the timeout (an
 * ioredis client that is reconnecting queues the PING: the timeout decides). Critical by
 * default.
 *
 * @param options - See {@link RedisCheckOptions}.
 * @returns The check.
 * @throws TypeError when `client` has no `ping()`.
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { redisCheck } from '@hardening/health';
 * const check = redisCheck({ client: new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'), critical: false });
 * ```
 */
export function redisCheck(options: RedisCheckOptions): HealthCheck {
  const { client, warnAboveMs = 250 } = options ?? ({} as RedisCheckOptions);
  if (typeof client?.ping !== 'function') throw new TypeError('Expected `client` to be a Redis client with `ping()`.');
  assertThreshold('warnAboveMs', warnAboveMs);
  return {
    ...commonFields(options, { name: 'redis', measurement: 'responseTime', componentType: 'datastore' }),
    async check() {
      const started = performance.now();
      const reply = await client.ping();
      const ms = roundMs(performance.now() - started);
      if (String(reply).toUpperCase() !== 'PONG') {
        return { status: 'fail', observedValue: ms, observedUnit: 'ms', output: 'unexpected reply to PING' };
      }
      const slow = ms > warnAboveMs;
      return {
        status: slow ? 'warn' : 'pass',
        observedValue: ms,
        observedUnit: 'ms',
        ...(slow ? { output: `slow: ${ms} ms (warn above ${warnAboveMs} ms)` } : {}),
      };
    },
  };
}
