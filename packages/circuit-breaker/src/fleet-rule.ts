/**
 * Options for the fleet rule of {@link shareBreakerState}: a breaker opens everywhere only
 * when at least `minInstances` distinct instances saw their own breaker trip within
 * `windowMs`, so one instance with a sick network cannot take a provider "down" for the
 * whole fleet.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { getDefaultRegistry, shareBreakerState } from '@hardening/circuit-breaker';
 * const shared = shareBreakerState(getDefaultRegistry(), { redis: new Redis(), fleet: { minInstances: 3, windowMs: 60_000 } });
 * await shared.close();
 * ```
 */
export interface FleetRuleOptions {
  /**
   * Distinct instances whose own breaker must have tripped within `windowMs` before the
   * breaker opens on every instance. An instance whose breaker trips before that opens
   * alone (it stops calling, the others carry on). 1 means any instance's trip opens
   * the fleet, as without the fleet rule.
   * @default 2
   */
  readonly minInstances?: number | undefined;
  /**
   * How long an instance's trip counts towards `minInstances`, measured on Redis's clock
   * (so instance clocks may disagree).
   * @default 60_000
   */
  readonly windowMs?: number | undefined;
}

/** @internal The fleet rule with its defaults applied. */
export interface ResolvedFleetRule {
  readonly minInstances: number;
  readonly windowMs: number;
}

const defaults: ResolvedFleetRule = { minInstances: 2, windowMs: 60_000 };

/** @internal Applies defaults and validates; undefined when the rule is off. */
export function resolveFleetRule(options: FleetRuleOptions | undefined): ResolvedFleetRule | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object') throw new TypeError('Expected `fleet` to be an object.');
  const minInstances = options.minInstances ?? defaults.minInstances;
  const windowMs = options.windowMs ?? defaults.windowMs;
  if (!Number.isInteger(minInstances) || minInstances < 1) {
    throw new TypeError(`Expected \`fleet.minInstances\` to be a positive integer, got ${String(minInstances)}.`);
  }
  if (!Number.isFinite(windowMs) || windowMs < 1) {
    throw new TypeError(`Expected \`fleet.windowMs\` to be a positive number, got ${String(windowMs)}.`);
  }
  return { minInstances, windowMs };
}

/**
 * @internal One round trip when an instance's own breaker trips: record the trip in a sorted
 * set of instance ids scored by Redis time, drop trips older than the window, and when
 * enough distinct instances tripped (and the fleet is not already open or isolated) open
 * the shared state, drop the probe lease and tell every process, atomically.
 *
 * KEYS: state hash, probe lease, trips sorted set.
 * ARGV: instance id, minInstances, windowMs, nextAttemptAt, at, stateTtlMs, channel, name.
 * Returns: { opened (0/1), trips, version, state, nextAttemptAt, by } of the shared state after the call.
 */
export const reportTripScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[3], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[3]))
redis.call('PEXPIRE', KEYS[3], ARGV[3])
local trips = redis.call('ZCARD', KEYS[3])
local current = redis.call('HMGET', KEYS[1], 'version', 'state', 'nextAttemptAt', 'by')
if trips < tonumber(ARGV[2]) or current[2] == 'open' or current[2] == 'isolated' then
  return { 0, trips, tonumber(current[1]) or 0, current[2] or '', tonumber(current[3]) or 0, current[4] or '' }
end
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'state', 'open', 'nextAttemptAt', ARGV[4], 'by', ARGV[1], 'at', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[7], cjson.encode({ name = ARGV[8], version = version, state = 'open', nextAttemptAt = tonumber(ARGV[4]), by = ARGV[1] }))
return { 1, trips, version, 'open', tonumber(ARGV[4]), ARGV[1] }
`;

/** @internal What {@link reportTripScript} answered. */
export interface TripReport {
  readonly opened: boolean;
  readonly trips: number;
  readonly version: number;
  readonly state: string;
  readonly nextAttemptAt: number;
  readonly by: string;
}

/** @internal Parses the script's reply. */
export function parseTripReport(reply: unknown): TripReport {
  const [opened, trips, version, state, nextAttemptAt, by] = reply as [number, number, number, string, number, string];
  return { opened: opened === 1, trips: Number(trips), version: Number(version), state: String(state), nextAttemptAt: Number(nextAttemptAt), by: String(by) };
}
