import { randomUUID } from 'node:crypto';
import type { Severity } from '../alert.js';
import type {
  ActiveAlertRecord,
  AlertHistoryEntry,
  AlertOutcome,
  AlertStore,
  ClaimRequest,
  ClaimResult,
  OutcomeCount,
  TrackedDelivery,
} from './alert-store.js';

/**
 * The slice of an `ioredis` client the store uses (`new Redis(url)` or a `Cluster` fits):
 * every operation is one Lua script, atomic in Redis. `ioredis` is an optional peer
 * dependency: pass your own client.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import type { RedisEvalClient } from '@hardening/alerting';
 * const redis: RedisEvalClient = new Redis(process.env.REDIS_URL!);
 * ```
 */
export interface RedisEvalClient {
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
}

/**
 * Options for {@link createRedisAlertStore}.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRedisAlertStore } from '@hardening/alerting';
 * const store = createRedisAlertStore({ redis: new Redis(process.env.REDIS_URL!), prefix: 'myapp:alerts' });
 * ```
 */
export interface RedisAlertStoreOptions {
  /** An `ioredis` client. */
  readonly redis: RedisEvalClient;
  /**
   * Key prefix. Every key is inside one hash tag (`{prefix}`), so the store works on Redis
   * Cluster too (all its keys live in one slot). The default is namespaced so it does not
   * collide with other users of a shared Redis; it used to be `'alerts'`: pass
   * `prefix: 'alerts'` to keep reading the keys an older version wrote.
   * @default 'hardening:alerts'
   */
  readonly prefix?: string;
  /**
   * How long an alert's record lives after it was last raised (its first-seen time, for
   * escalation, and its occurrence count).
   * @default 604_800_000 (7 days)
   */
  readonly recordTtlMs?: number;
  /**
   * History entries kept at most (the oldest go first); `prune` also drops old ones.
   * @default 100_000
   */
  readonly maxHistory?: number;
}

const defaults = { prefix: 'hardening:alerts', recordTtlMs: 7 * 24 * 3_600_000, maxHistory: 100_000 };

// Every script keeps all its work inside one key slot (the prefix's hash tag) and is
// atomic: two instances can never both win a claim, a resolve, an escalation or a receipt.

/**
 * KEYS: claim, alert hash, medium zset, inhibit zset.
 * ARGV: alertId, type, key, resourceId, severity, title, payload, now, windowMs, recordTtlMs.
 * The claim is `SET claim alertId NX PX window`; a claim key whose window ended on the
 * app's clock (the stores agree on the app's clock, so tests can move it), or held at a
 * lower severity than the request's, is taken over.
 */
const claimScript = `
local claimKey, hashKey, mediumKey, inhibitKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local alertId, typ, key, resourceId, severity, title, payload = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local now, window, ttl = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local won = redis.call('SET', claimKey, alertId, 'NX', 'PX', window)
local rank = { LOW = 0, MEDIUM = 1, HIGH = 2 }
if not won then
  local expires = tonumber(redis.call('HGET', hashKey, 'expiresAt') or '0')
  local resolved = redis.call('HGET', hashKey, 'resolvedAt')
  local held = redis.call('HGET', hashKey, 'severity') or severity
  if expires <= now or (resolved and resolved ~= '') or (rank[severity] or 0) > (rank[held] or 0) then
    redis.call('SET', claimKey, alertId, 'PX', window)
    won = true
  end
end
if won then
  local resolved = redis.call('HGET', hashKey, 'resolvedAt')
  local reopened = redis.call('EXISTS', hashKey) == 0 or (resolved and resolved ~= '')
  local firstSeen, occurrences, escalated = now, 1, ''
  if not reopened then
    firstSeen = tonumber(redis.call('HGET', hashKey, 'firstSeenAt'))
    occurrences = tonumber(redis.call('HGET', hashKey, 'occurrences') or '0') + 1
    escalated = redis.call('HGET', hashKey, 'escalatedAt') or ''
  end
  local sev = severity
  if escalated ~= '' then sev = 'HIGH' end
  redis.call('DEL', hashKey)
  redis.call('HSET', hashKey, 'alertId', alertId, 'type', typ, 'key', key, 'resourceId', resourceId, 'severity', sev,
    'title', title, 'payload', payload, 'firstSeenAt', firstSeen, 'lastSeenAt', now, 'claimedAt', now,
    'expiresAt', now + window, 'deliveredAt', '', 'sinks', '[]', 'escalatedAt', escalated, 'resolvedAt', '',
    'occurrences', occurrences)
  redis.call('PEXPIRE', hashKey, ttl)
  if sev == 'MEDIUM' and escalated == '' then redis.call('ZADD', mediumKey, firstSeen, hashKey) else redis.call('ZREM', mediumKey, hashKey) end
  if sev == 'HIGH' and resourceId ~= '' then
    redis.call('ZADD', inhibitKey, now + window, hashKey)
    if redis.call('PTTL', inhibitKey) < window then redis.call('PEXPIRE', inhibitKey, window) end
  end
  return {1, alertId, sev, tostring(firstSeen), tostring(now + window), occurrences}
end
local occurrences = redis.call('HINCRBY', hashKey, 'occurrences', 1)
local last = tonumber(redis.call('HGET', hashKey, 'lastSeenAt') or '0')
if now > last then redis.call('HSET', hashKey, 'lastSeenAt', now) end
redis.call('PEXPIRE', hashKey, ttl)
return {0, redis.call('GET', claimKey) or '', redis.call('HGET', hashKey, 'severity') or severity,
  redis.call('HGET', hashKey, 'firstSeenAt') or tostring(now), redis.call('HGET', hashKey, 'expiresAt') or tostring(now), occurrences}
`;

/** KEYS: alert hash. ARGV: alertId, at, sinks JSON. */
const markDeliveredScript = `
if redis.call('HGET', KEYS[1], 'alertId') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'deliveredAt', ARGV[2], 'sinks', ARGV[3])
return 1
`;

/** KEYS: alert hash, claim, inhibit zset. ARGV: alertId, at. */
const releaseScript = `
if redis.call('HGET', KEYS[1], 'alertId') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'resolvedAt') ~= '' then return 0 end
local expires = tonumber(redis.call('HGET', KEYS[1], 'expiresAt'))
if tonumber(ARGV[2]) < expires then redis.call('HSET', KEYS[1], 'expiresAt', ARGV[2]) end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
redis.call('ZREM', KEYS[3], KEYS[1])
return 1
`;

/** KEYS: alert hash, claim, medium zset, inhibit zset. ARGV: at. */
const resolveScript = `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HGET', KEYS[1], 'resolvedAt') ~= '' then return nil end
local expires = tonumber(redis.call('HGET', KEYS[1], 'expiresAt'))
redis.call('HSET', KEYS[1], 'resolvedAt', ARGV[1])
if tonumber(ARGV[1]) < expires then redis.call('HSET', KEYS[1], 'expiresAt', ARGV[1]) end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], KEYS[1])
redis.call('ZREM', KEYS[4], KEYS[1])
return redis.call('HGETALL', KEYS[1])
`;

/** KEYS: inhibit zset. ARGV: at, member to ignore. Returns 1 when another open HIGH alert is there. */
const hasOpenHighScript = `
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')
for _, member in ipairs(members) do
  if member ~= ARGV[2] and redis.call('HGET', member, 'resolvedAt') == '' and redis.call('HGET', member, 'severity') == 'HIGH' then return 1 end
end
return 0
`;

/** KEYS: medium zset. ARGV: firstSeenBefore, limit. Returns the hashes (flat), dropping members whose record is gone. */
const candidatesScript = `
local out = {}
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(members) do
  if redis.call('EXISTS', member) == 0 then
    redis.call('ZREM', KEYS[1], member)
  else
    table.insert(out, redis.call('HGETALL', member))
  end
end
return out
`;

/** KEYS: alert hash, medium zset, inhibit zset. ARGV: at. */
const claimEscalationScript = `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HGET', KEYS[1], 'resolvedAt') ~= '' or redis.call('HGET', KEYS[1], 'escalatedAt') ~= '' then return 0 end
redis.call('HSET', KEYS[1], 'escalatedAt', ARGV[1], 'severity', 'HIGH')
redis.call('ZREM', KEYS[2], KEYS[1])
if redis.call('HGET', KEYS[1], 'resourceId') ~= '' then
  local expires = tonumber(redis.call('HGET', KEYS[1], 'expiresAt'))
  redis.call('ZADD', KEYS[3], expires, KEYS[1])
  local left = expires - tonumber(ARGV[1])
  if left > 0 and redis.call('PTTL', KEYS[3]) < left then redis.call('PEXPIRE', KEYS[3], left) end
end
return 1
`;

/** KEYS: history zset. ARGV: at, entry JSON, max entries. */
const appendScript = `
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, extra - 1) end
return 1
`;

/** KEYS: history zset. ARGV: max entries, then (at, entry JSON) pairs. */
const appendManyScript = `
for i = 2, #ARGV, 2 do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1]) end
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[1])
if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, extra - 1) end
return 1
`;

/** KEYS: pending zset. ARGV: delivery key prefix, sink ('' for any), limit. Pending deliveries. */
const listPendingScript = `
local out = {}
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, id in ipairs(ids) do
  local hash = ARGV[1] .. id
  if redis.call('HGET', hash, 'status') == 'pending' and (ARGV[2] == '' or redis.call('HGET', hash, 'sink') == ARGV[2]) then
    table.insert(out, redis.call('HGETALL', hash))
    if #out >= tonumber(ARGV[3]) then break end
  end
end
return out
`;

/** KEYS: history zset. ARGV: since, limit. Newest first. */
const historyScript = `
return redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
`;

/** KEYS: delivery hash, pending zset. ARGV: id, fields JSON, deadline, ttl. */
const trackScript = `
local fields = cjson.decode(ARGV[2])
redis.call('DEL', KEYS[1])
for k, v in pairs(fields) do redis.call('HSET', KEYS[1], k, v) end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
`;

/** KEYS: delivery hash, pending zset. ARGV: id, status, at. */
const settleScript = `
if redis.call('HGET', KEYS[1], 'status') ~= 'pending' then return nil end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'settledAt', ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('HGETALL', KEYS[1])
`;

/** KEYS: pending zset. ARGV: at, limit, delivery key prefix. */
const overdueScript = `
local out = {}
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local hash = ARGV[3] .. id
  if redis.call('HGET', hash, 'status') == 'pending' then
    redis.call('HSET', hash, 'status', 'expired', 'settledAt', ARGV[1])
    table.insert(out, redis.call('HGETALL', hash))
  end
end
return out
`;

/** KEYS: history zset. ARGV: historyBefore. */
const pruneScript = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
return 1
`;

function hashOf(flat: unknown): Record<string, string> {
  const list = flat as string[];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i]!] = list[i + 1]!;
  return out;
}

const optionalNumber = (value: string | undefined) => (value === undefined || value === '' ? undefined : Number(value));

function activeRecord(h: Record<string, string>): ActiveAlertRecord {
  return {
    alertId: h.alertId!,
    type: h.type!,
    key: h.key!,
    resourceId: h.resourceId === '' ? undefined : h.resourceId,
    severity: h.severity as Severity,
    title: h.title!,
    payload: h.payload!,
    firstSeenAt: Number(h.firstSeenAt),
    lastSeenAt: Number(h.lastSeenAt),
    expiresAt: Number(h.expiresAt),
    deliveredAt: optionalNumber(h.deliveredAt),
    sinks: JSON.parse(h.sinks ?? '[]') as string[],
    escalatedAt: optionalNumber(h.escalatedAt),
    occurrences: Number(h.occurrences),
  };
}

function trackedDelivery(h: Record<string, string>): TrackedDelivery {
  return {
    deliveryId: h.deliveryId!,
    alertId: h.alertId!,
    type: h.type!,
    key: h.key!,
    sink: h.sink!,
    status: h.status as TrackedDelivery['status'],
    payload: h.payload!,
    sentAt: Number(h.sentAt),
    deadlineAt: Number(h.deadlineAt),
  };
}

/**
 * An {@link AlertStore} on Redis: dedup holds across every instance sharing the Redis.
 * The claim is an atomic `SET NX PX` per (type, key) and window, inside a Lua script that
 * also keeps the alert's record (first seen, occurrences, escalation); resolves,
 * escalations and SMS receipts are settled by scripts too, so exactly one instance acts.
 * Records expire `recordTtlMs` after an alert was last raised; history is a sorted set
 * capped at `maxHistory`. With Redis persistence off, a Redis restart forgets open
 * alerts: the next occurrence alerts again (a duplicate, never a loss).
 *
 * @param options - See {@link RedisAlertStoreOptions}.
 * @returns The store.
 * @throws TypeError when `redis` is not an ioredis client or an option is invalid.
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createAlertService, createRedisAlertStore } from '@hardening/alerting';
 * const alerts = createAlertService({ sinks, store: createRedisAlertStore({ redis: new Redis(process.env.REDIS_URL!) }) });
 * ```
 */
export function createRedisAlertStore(options: RedisAlertStoreOptions): AlertStore {
  const redis = options?.redis;
  if (typeof redis?.eval !== 'function') throw new TypeError('Expected `redis` to be an ioredis client (with eval).');
  const prefix = options.prefix ?? defaults.prefix;
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9:_.-]{1,100}$/.test(prefix)) {
    throw new TypeError(`Expected \`prefix\` to be 1-100 letters, digits or :_.- characters, got ${JSON.stringify(prefix)}.`);
  }
  const recordTtlMs = options.recordTtlMs ?? defaults.recordTtlMs;
  if (!Number.isInteger(recordTtlMs) || recordTtlMs < 1000)
    throw new TypeError(`Expected \`recordTtlMs\` to be an integer of at least 1000, got ${String(recordTtlMs)}.`);
  const maxHistory = options.maxHistory ?? defaults.maxHistory;
  if (!Number.isInteger(maxHistory) || maxHistory < 1) throw new TypeError(`Expected \`maxHistory\` to be a positive integer, got ${String(maxHistory)}.`);

  const root = `{${prefix}}`;
  const enc = encodeURIComponent;
  const k = {
    alert: (type: string, key: string) => `${root}:alert:${enc(type)}:${enc(key)}`,
    claim: (type: string, key: string) => `${root}:claim:${enc(type)}:${enc(key)}`,
    medium: `${root}:medium`,
    inhibit: (resourceId: string | undefined) => `${root}:inhibit:${enc(resourceId ?? '')}`,
    history: `${root}:history`,
    deliveryPrefix: `${root}:delivery:`,
    pending: `${root}:pending`,
  };
  const run = (script: string, keys: string[], ...args: Array<string | number>) => redis.eval(script, keys.length, ...keys, ...args);

  const resourceOf = async (type: string, key: string): Promise<string | undefined> => {
    // The resource lives in the record; the inhibit key needs it up front (scripts must
    // name their keys), so read it first. A stale read only leaves a harmless extra member.
    const flat = await run(`return redis.call('HGET', KEYS[1], 'resourceId') or ''`, [k.alert(type, key)]);
    return flat === '' ? undefined : (flat as string);
  };

  // ioredis keeps its connection options; a cluster or a stand-in may not.
  const connection = (redis as { options?: { host?: string; port?: number; db?: number; path?: string } }).options;
  const identity =
    connection === undefined
      ? undefined
      : `${connection.path ?? `${connection.host ?? 'localhost'}:${connection.port ?? 6379}`}/${connection.db ?? 0}/${prefix}`;

  return {
    kind: 'redis',
    ...(identity === undefined ? {} : { identity }),

    async claim(request: ClaimRequest): Promise<ClaimResult> {
      const reply = (await run(
        claimScript,
        [k.claim(request.type, request.key), k.alert(request.type, request.key), k.medium, k.inhibit(request.resourceId)],
        request.alertId,
        request.type,
        request.key,
        request.resourceId ?? '',
        request.severity,
        request.title,
        request.payload,
        request.now,
        request.windowMs,
        Math.max(recordTtlMs, request.windowMs),
      )) as [number, string, string, string, string, number];
      return {
        claimed: Number(reply[0]) === 1,
        alertId: reply[1],
        severity: reply[2] as Severity,
        firstSeenAt: Number(reply[3]),
        expiresAt: Number(reply[4]),
        occurrences: Number(reply[5]),
      };
    },

    async markDelivered({ type, key, alertId, at, sinks }) {
      await run(markDeliveredScript, [k.alert(type, key)], alertId, at, JSON.stringify(sinks));
    },

    async release({ type, key, alertId, at }) {
      const resourceId = await resourceOf(type, key);
      await run(releaseScript, [k.alert(type, key), k.claim(type, key), k.inhibit(resourceId)], alertId, at);
    },

    async resolve({ type, key, at }) {
      const resourceId = await resourceOf(type, key);
      const flat = await run(resolveScript, [k.alert(type, key), k.claim(type, key), k.medium, k.inhibit(resourceId)], at);
      return flat === null || flat === undefined ? undefined : activeRecord(hashOf(flat));
    },

    async hasOpenHigh({ resourceId, exceptType, exceptKey, at }) {
      return Number(await run(hasOpenHighScript, [k.inhibit(resourceId)], at, k.alert(exceptType, exceptKey))) === 1;
    },

    async escalationCandidates({ firstSeenBefore, lastSeenAfter, limit }) {
      const rows = ((await run(candidatesScript, [k.medium], firstSeenBefore, limit * 4)) as unknown[]).map((flat) => activeRecord(hashOf(flat)));
      return rows
        .filter(
          (r) =>
            r.severity === 'MEDIUM' &&
            r.deliveredAt !== undefined &&
            r.escalatedAt === undefined &&
            r.lastSeenAt >= lastSeenAfter &&
            r.firstSeenAt <= firstSeenBefore,
        )
        .slice(0, limit);
    },

    async claimEscalation({ type, key, at }) {
      const resourceId = await resourceOf(type, key);
      return Number(await run(claimEscalationScript, [k.alert(type, key), k.medium, k.inhibit(resourceId)], at)) === 1;
    },

    async append(entry) {
      await run(appendScript, [k.history], entry.at, JSON.stringify({ ...entry, id: randomUUID() }), maxHistory);
    },

    async appendMany(entries) {
      if (entries.length === 0) return;
      const args: Array<string | number> = [maxHistory];
      for (const entry of entries) args.push(entry.at, JSON.stringify({ ...entry, id: randomUUID() }));
      await run(appendManyScript, [k.history], ...args);
    },

    async history({ since, type, key, limit = 1000 }) {
      const filtered = type !== undefined || key !== undefined;
      const raw = (await run(historyScript, [k.history], since, filtered ? maxHistory : limit)) as string[];
      const out: AlertHistoryEntry[] = [];
      for (const json of raw) {
        const { id: _id, ...entry } = JSON.parse(json) as AlertHistoryEntry & { id: string };
        if (type !== undefined && entry.type !== type) continue;
        if (key !== undefined && entry.key !== key) continue;
        out.push({ ...entry, resourceId: entry.resourceId ?? undefined, detail: entry.detail ?? undefined });
        if (out.length >= limit) break;
      }
      return out;
    },

    async countOutcomes({ since }) {
      const raw = (await run(historyScript, [k.history], since, maxHistory)) as string[];
      const counts = new Map<string, OutcomeCount>();
      for (const json of raw) {
        const entry = JSON.parse(json) as { type: string; severity: Severity; outcome: AlertOutcome };
        const id = `${entry.type}\u0000${entry.severity}\u0000${entry.outcome}`;
        counts.set(id, { type: entry.type, severity: entry.severity, outcome: entry.outcome, count: (counts.get(id)?.count ?? 0) + 1 });
      }
      return [...counts.values()];
    },

    async trackDelivery(delivery) {
      const fields = { ...delivery, sentAt: String(delivery.sentAt), deadlineAt: String(delivery.deadlineAt) };
      await run(
        trackScript,
        [`${k.deliveryPrefix}${delivery.deliveryId}`, k.pending],
        delivery.deliveryId,
        JSON.stringify(fields),
        delivery.deadlineAt,
        recordTtlMs,
      );
    },

    async listPendingDeliveries({ sink, limit }) {
      const rows = (await run(listPendingScript, [k.pending], k.deliveryPrefix, sink ?? '', limit)) as unknown[];
      return rows.map((flat) => trackedDelivery(hashOf(flat))).sort((a, b) => a.sentAt - b.sentAt);
    },

    async settleDelivery({ deliveryId, status, at }) {
      const flat = await run(settleScript, [`${k.deliveryPrefix}${deliveryId}`, k.pending], deliveryId, status, at);
      return flat === null || flat === undefined ? undefined : trackedDelivery(hashOf(flat));
    },

    async takeOverdueDeliveries({ at, limit }) {
      const rows = (await run(overdueScript, [k.pending], at, limit, k.deliveryPrefix)) as unknown[];
      return rows.map((flat) => trackedDelivery(hashOf(flat)));
    },

    async prune({ historyBefore }) {
      // Records and receipts expire on their own (recordTtlMs); only the history needs trimming.
      await run(pruneScript, [k.history], historyBefore);
    },
  };
}
