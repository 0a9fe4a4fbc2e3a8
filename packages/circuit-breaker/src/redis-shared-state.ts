import { randomUUID } from 'node:crypto';
import type { BreakerRegistry } from './breaker-registry.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import { sharedStateAccess } from './circuit-breaker.js';
import type { StateChange } from './circuit-state.js';
import type { FleetRuleOptions, ResolvedFleetRule } from './fleet-rule.js';
import { parseTripReport, reportTripScript, resolveFleetRule } from './fleet-rule.js';

/**
 * The slice of an ioredis client (`Redis` or `Cluster`) the shared state uses. ioredis is
 * an optional peer dependency: pass your own client.
 */
export interface SharedStateRedisClient {
  readonly status: string;
  eval(script: string, numberOfKeys: number, ...args: (string | number)[]): Promise<unknown>;
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<unknown>;
  pttl(key: string): Promise<number>;
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>;
  duplicate(): SharedStateSubscriber;
}

/** The slice of an ioredis client used to receive state changes. */
export interface SharedStateSubscriber {
  readonly status: string;
  subscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/** A logger a pino logger satisfies. */
export interface SharedStateLogger {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

/**
 * Options for {@link shareBreakerState}.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { getDefaultRegistry, shareBreakerState } from '@hardening/circuit-breaker';
 * const shared = shareBreakerState(getDefaultRegistry(), { redis: new Redis(), syncIntervalMs: 1000 });
 * ```
 */
export interface SharedStateOptions {
  /** An ioredis `Redis` or `Cluster` client used for commands. */
  readonly redis: SharedStateRedisClient;
  /**
   * A client for pub/sub (a connection in subscriber mode can run nothing else).
   * @default redis.duplicate()
   */
  readonly subscriber?: SharedStateSubscriber | undefined;
  /**
   * Key and channel prefix. Each breaker's keys share the hash tag `{prefix:name}`, so
   * they live in one Redis Cluster slot.
   * @default 'hardening:cb'
   */
  readonly prefix?: string | undefined;
  /**
   * Every breaker's shared state is re-read this often, which bounds staleness when a
   * pub/sub message is lost (for example while the subscriber reconnects).
   * @default 2000
   */
  readonly syncIntervalMs?: number | undefined;
  /**
   * A Redis command that has not answered after this long counts as a failure, so a hung
   * Redis degrades to local state quickly instead of holding a breaker open.
   * @default 1000
   */
  readonly commandTimeoutMs?: number | undefined;
  /**
   * How long a shared state record lives after its last change.
   * @default 86_400_000 (24 h)
   */
  readonly stateTtlMs?: number | undefined;
  /**
   * Identifies this process in the shared record.
   * @default a random UUID
   */
  readonly instanceId?: string | undefined;
  /**
   * Where degradation warnings go.
   * @default console
   */
  readonly logger?: SharedStateLogger | undefined;
  /**
   * Opt-in fleet rule: open a breaker everywhere only when at least `minInstances`
   * instances saw their own breaker trip within `windowMs` (see {@link FleetRuleOptions}).
   * Without it, any one instance's breaker opening opens it everywhere.
   * @default undefined (off)
   */
  readonly fleet?: FleetRuleOptions | undefined;
}

/**
 * What {@link SharedBreakerState.status} reports, for health checks.
 */
export interface SharedStateStatus {
  /** True while Redis answers; false means every breaker runs on local state. */
  readonly connected: boolean;
  /** Breakers attached. */
  readonly breakers: number;
  /** Last error talking to Redis, if any since the last success. */
  readonly lastError: string | undefined;
  /** When the last full sync finished (epoch ms). */
  readonly lastSyncAt: number | undefined;
  /**
   * Which rule opens breakers right now: `shared` (any instance's trip opens every
   * instance), `fleet` (the fleet rule), or `local` (Redis is unreachable: each instance
   * opens on its own rule and probes for itself).
   */
  readonly rule: 'shared' | 'fleet' | 'local';
}

// One round trip per state change: bump the version, store the state, drop the probe
// lease (and, on close, the fleet rule's trips) and tell every process, atomically.
const setStateScript = `
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'nextAttemptAt', ARGV[2], 'by', ARGV[3], 'at', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('DEL', KEYS[2])
if ARGV[1] == 'closed' then redis.call('DEL', KEYS[3]) end
redis.call('PUBLISH', ARGV[6], cjson.encode({ name = ARGV[7], version = version, state = ARGV[1], nextAttemptAt = tonumber(ARGV[2]), by = ARGV[3] }))
return version
`;

type SharedStateName = 'open' | 'closed' | 'isolated';

interface RemoteState {
  readonly name: string;
  readonly version: number;
  readonly state: SharedStateName;
  readonly nextAttemptAt: number;
  readonly by: string;
}

interface Attached {
  readonly breaker: CircuitBreaker;
  version: number;
  electing: boolean;
  electAgainAt: number;
  electionTimer: NodeJS.Timeout | undefined;
  /**
   * Fleet rule: whether the breaker's current open (or half-open) state is the fleet's, so
   * its probe decides for everyone. False while it is open on its own rule alone.
   */
  fleetOpen: boolean;
  /**
   * A local change Redis has not stored yet (Redis was down); pushed on the next sync.
   * `trip` marks a fleet-rule trip report rather than a shared state.
   */
  unpublished: { state: SharedStateName; nextAttemptAt: number; at: number; trip: boolean } | undefined;
  detach: () => void;
}

const defaults = {
  commandTimeoutMs: 1000,
  prefix: 'hardening:cb',
  syncIntervalMs: 2000,
  stateTtlMs: 86_400_000,
};

/**
 * Breaker state shared across the processes of one app through Redis. Created by
 * {@link shareBreakerState}.
 *
 * How it works, and what it costs:
 * - The closed-state hot path never touches Redis: each process keeps its own breaker and
 *   counts its own calls.
 * - When a process's breaker opens (or closes, or is isolated), one Lua call stores the
 *   state with a version and publishes it; every other process applies it at once. If a
 *   message is lost, the periodic re-read (`syncIntervalMs`) catches up, so a process is
 *   at most `syncIntervalMs` (plus one Redis round trip) behind.
 * - When the cooldown ends, processes race for a probe lease (`SET NX PX`); only the
 *   winner goes half-open and sends probes, the others stay open until the winner
 *   publishes the outcome, or its lease expires and they race again.
 * - When Redis is unreachable, every breaker falls back to local state (each process
 *   probes for itself) and a warning is logged; sharing resumes when Redis answers.
 * - With the opt-in fleet rule (`fleet`), a process whose own rule trips opens alone and
 *   reports the trip (one Lua call: a sorted set of instance ids scored by Redis time);
 *   the breaker opens everywhere only once `minInstances` distinct instances tripped
 *   within `windowMs`. Probing, recovery and manual changes are shared as above.
 */
export class SharedBreakerState {
  private readonly redis: SharedStateRedisClient;
  private readonly subscriber: SharedStateSubscriber;
  private readonly ownsSubscriber: boolean;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly stateTtlMs: number;
  private readonly commandTimeoutMs: number;
  private readonly instanceId: string;
  private readonly logger: SharedStateLogger;
  private readonly fleet: ResolvedFleetRule | undefined;
  private readonly attached = new Map<string, Attached>();
  private readonly timer: NodeJS.Timeout;
  private applyingRemote = false;
  private degraded = false;
  private lastError: string | undefined;
  private lastSyncAt: number | undefined;
  private closed = false;
  /** Redis commands not answered yet; `close()` waits for them (each bounded by `commandTimeoutMs`). */
  private readonly inFlight = new Set<Promise<unknown>>();
  private detachRegistry: (() => void) | undefined;

  /** @internal Use {@link shareBreakerState}. */
  constructor(options: SharedStateOptions) {
    if (options === null || typeof options !== 'object' || options.redis === undefined) {
      throw new TypeError('Expected `redis` to be an ioredis client.');
    }
    const syncIntervalMs = options.syncIntervalMs ?? defaults.syncIntervalMs;
    if (!Number.isFinite(syncIntervalMs) || syncIntervalMs < 10) {
      throw new TypeError(`Expected \`syncIntervalMs\` to be a number >= 10, got ${String(syncIntervalMs)}.`);
    }
    this.redis = options.redis;
    this.prefix = options.prefix ?? defaults.prefix;
    this.channel = `${this.prefix}:events`;
    this.stateTtlMs = options.stateTtlMs ?? defaults.stateTtlMs;
    this.commandTimeoutMs = options.commandTimeoutMs ?? defaults.commandTimeoutMs;
    this.instanceId = options.instanceId ?? randomUUID();
    this.logger = options.logger ?? consoleLogger;
    this.fleet = resolveFleetRule(options.fleet);
    this.ownsSubscriber = options.subscriber === undefined;
    this.subscriber = options.subscriber ?? options.redis.duplicate();
    this.subscriber.on('message', (channel, message) => {
      if (channel === this.channel) this.onMessage(message);
    });
    this.subscriber.on('error', () => {
      // Connection errors surface through the command path; ioredis reconnects by itself.
    });
    this.subscriber.on('ready', () => void this.subscribe());
    void this.subscribe();
    this.timer = setInterval(() => void this.syncAll(), syncIntervalMs);
    this.timer.unref();
  }

  /**
   * Shares the state of every breaker in `registry`, present and future.
   *
   * @param registry - The registry.
   * @returns This instance.
   */
  attachRegistry(registry: BreakerRegistry): this {
    for (const breaker of registry.all()) this.attach(breaker);
    this.detachRegistry = registry.onBreakerAdded((breaker) => this.attach(breaker));
    return this;
  }

  /**
   * Shares the state of one breaker. Breakers sharing state must have the same name in
   * every process.
   *
   * @param breaker - The breaker.
   * @returns This instance.
   */
  attach(breaker: CircuitBreaker): this {
    this.attached.get(breaker.name)?.detach();
    const entry: Attached = {
      breaker,
      version: 0,
      electing: false,
      electAgainAt: 0,
      electionTimer: undefined,
      fleetOpen: false,
      unpublished: undefined,
      detach: () => {},
    };
    const stopListening = breaker.onStateChange((change) => this.onLocalChange(entry, change));
    const access = sharedStateAccess(breaker);
    access.setProbeGate(() => this.gate(entry));
    entry.detach = () => {
      clearTimeout(entry.electionTimer);
      stopListening();
      access.setProbeGate(undefined);
    };
    this.attached.set(breaker.name, entry);
    void this.sync(entry);
    return this;
  }

  /**
   * Whether Redis is reachable and how many breakers are shared.
   *
   * @returns A {@link SharedStateStatus}.
   */
  status(): SharedStateStatus {
    const connected = !this.degraded && this.redis.status === 'ready';
    return {
      connected,
      breakers: this.attached.size,
      lastError: this.lastError,
      lastSyncAt: this.lastSyncAt,
      rule: !connected ? 'local' : this.fleet === undefined ? 'shared' : 'fleet',
    };
  }

  /**
   * Re-reads every breaker's shared state now (also runs every `syncIntervalMs`).
   *
   * @returns When done.
   */
  async syncAll(): Promise<void> {
    await Promise.all([...this.attached.values()].map((entry) => this.sync(entry)));
    if (!this.degraded) this.lastSyncAt = Date.now();
  }

  /**
   * Stops sharing: detaches every breaker (they keep their local state), waits for the
   * commands already sent (so a change made just before still reaches Redis; each is
   * bounded by `commandTimeoutMs`), and closes the subscriber connection if this instance
   * created it. The command client is yours to close afterwards.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.detachRegistry?.();
    for (const entry of this.attached.values()) entry.detach();
    this.attached.clear();
    await Promise.allSettled([...this.inFlight]);
    if (this.ownsSubscriber) {
      await this.subscriber.quit().catch(() => this.subscriber.disconnect());
    }
  }

  private keys(name: string): [string, string, string] {
    const tag = `{${this.prefix}:${name}}`;
    return [tag, `${tag}:probe`, `${tag}:trips`];
  }

  private async subscribe(): Promise<void> {
    try {
      await this.subscriber.subscribe(this.channel);
    } catch (error) {
      this.fail(error);
    }
  }

  private onLocalChange(entry: Attached, change: StateChange): void {
    if (this.applyingRemote || this.closed) return;
    let state: SharedStateName;
    if (change.to === 'open') state = 'open';
    else if (change.to === 'isolated') state = 'isolated';
    else if (change.to === 'closed') state = 'closed';
    else return; // half-open is this process's private business while it holds the probe lease
    if (this.fleet !== undefined && !this.fleetWide(entry, change)) {
      // The fleet rule: this instance's own rule tripped. It stays open here and reports the
      // trip; the fleet opens only once enough instances did. A local close says nothing.
      if (state === 'open') void this.reportTrip(entry, change.nextAttemptAt ?? 0, change.at);
      return;
    }
    if (state === 'open') {
      entry.fleetOpen = true;
      this.scheduleElection(entry, change.nextAttemptAt ?? 0);
    } else {
      entry.fleetOpen = false;
    }
    void this.publish(entry, state, change.nextAttemptAt ?? 0, change.at);
  }

  /**
   * Under the fleet rule, whether a local change is the fleet's business: decisions by hand
   * (open, close, isolate, restore) and the outcome of a probe made for the fleet are
   * shared as they are; a trip of this instance's own rule is only reported.
   */
  private fleetWide(entry: Attached, change: StateChange): boolean {
    return change.reason === 'manual' || change.reason === 'restored' || change.to === 'isolated' || entry.fleetOpen;
  }

  /** Fleet rule: reports this instance's trip; opens the fleet when enough instances tripped. */
  private async reportTrip(entry: Attached, nextAttemptAt: number, at: number): Promise<void> {
    entry.unpublished = { state: 'open', nextAttemptAt, at, trip: true };
    if (!this.usable()) return;
    const { breaker } = entry;
    const fleet = this.fleet!;
    try {
      const report = parseTripReport(
        await this.command(() =>
          this.redis.eval(
            reportTripScript,
            3,
            ...this.keys(breaker.name),
            this.instanceId,
            fleet.minInstances,
            fleet.windowMs,
            nextAttemptAt,
            at,
            this.stateTtlMs,
            this.channel,
            breaker.name,
          ),
        ),
      );
      if (entry.unpublished?.at === at && entry.unpublished.trip) entry.unpublished = undefined;
      this.succeed();
      if (report.opened) {
        entry.version = Math.max(entry.version, report.version);
        entry.fleetOpen = breaker.state === 'open';
        if (entry.fleetOpen) this.scheduleElection(entry, nextAttemptAt);
      } else if (report.state === 'open' || report.state === 'isolated') {
        // The fleet is already open: join it (its cooldown, its single prober).
        this.apply(entry, { name: breaker.name, version: report.version, state: report.state, nextAttemptAt: report.nextAttemptAt, by: report.by }, true);
      }
    } catch (error) {
      this.fail(error);
    }
  }

  /**
   * Races for the probe lease as soon as the cooldown ends, so that the winner is already
   * half-open when the next call arrives (the gate is only the fallback).
   */
  private scheduleElection(entry: Attached, at: number): void {
    clearTimeout(entry.electionTimer);
    entry.electionTimer = setTimeout(
      () => {
        if (entry.breaker.state === 'open' && !entry.electing && !this.degraded && this.usable()) void this.elect(entry);
      },
      Math.max(0, at - Date.now()),
    );
    entry.electionTimer.unref();
  }

  private async publish(entry: Attached, state: SharedStateName, nextAttemptAt: number, at: number): Promise<void> {
    entry.unpublished = { state, nextAttemptAt, at, trip: false };
    if (!this.usable()) return;
    try {
      const version = Number(
        await this.command(() =>
          this.redis.eval(
            setStateScript,
            3,
            ...this.keys(entry.breaker.name),
            state,
            nextAttemptAt,
            this.instanceId,
            at,
            this.stateTtlMs,
            this.channel,
            entry.breaker.name,
          ),
        ),
      );
      entry.version = Math.max(entry.version, version);
      if (entry.unpublished?.at === at && entry.unpublished.state === state) entry.unpublished = undefined;
      this.succeed();
    } catch (error) {
      this.fail(error);
    }
  }

  /** Runs a Redis command, failing it after `commandTimeoutMs`. */
  private command<T>(run: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer within ${this.commandTimeoutMs} ms`)), this.commandTimeoutMs);
    });
    const answer = Promise.race([run(), timeout]).finally(() => {
      clearTimeout(timer);
      this.inFlight.delete(answer);
    });
    this.inFlight.add(answer);
    return answer;
  }

  private gate(entry: Attached): boolean {
    // Redis known unreachable or unresponsive (a command failed since the last success): probe
    // locally. An election would wait its command timeout, refusing calls all that time; a
    // hung Redis keeps a "ready" connection, and a reconnect loop spends part of each retry
    // "connecting", both of which `usable()` lets through. Sharing resumes with the next sync.
    if (this.degraded || !this.usable()) return true;
    if (this.fleet !== undefined && !entry.fleetOpen) return true; // open on its own rule alone: its own probe
    if (!entry.electing && Date.now() >= entry.electAgainAt) void this.elect(entry);
    return false;
  }

  private async elect(entry: Attached): Promise<void> {
    entry.electing = true;
    const { breaker } = entry;
    const [, probeKey] = this.keys(breaker.name);
    const leaseMs = breaker.options.maxHalfOpenWaitMs + 1000;
    try {
      const won = await this.command(() => this.redis.set(probeKey, this.instanceId, 'PX', leaseMs, 'NX'));
      this.succeed();
      if (won === 'OK') {
        sharedStateAccess(breaker).startProbing();
      } else {
        const ttl = await this.command(() => this.redis.pttl(probeKey));
        entry.electAgainAt = Date.now() + (ttl > 0 ? ttl : 100);
      }
    } catch (error) {
      this.fail(error);
      sharedStateAccess(breaker).startProbing();
    } finally {
      entry.electing = false;
    }
  }

  private async sync(entry: Attached): Promise<void> {
    if (!this.usable()) return;
    const pending = entry.unpublished;
    if (pending !== undefined && this.stillLocal(entry, pending)) {
      if (pending.trip) await this.reportTrip(entry, pending.nextAttemptAt, pending.at);
      else await this.publish(entry, pending.state, pending.nextAttemptAt, pending.at);
      return;
    }
    entry.unpublished = undefined;
    const [stateKey] = this.keys(entry.breaker.name);
    try {
      const [version, state, nextAttemptAt, by] = await this.command(() => this.redis.hmget(stateKey, 'version', 'state', 'nextAttemptAt', 'by'));
      this.succeed();
      if (version === null || state === null) return;
      this.apply(entry, {
        name: entry.breaker.name,
        version: Number(version),
        state: state as SharedStateName,
        nextAttemptAt: Number(nextAttemptAt),
        by: by ?? '',
      });
    } catch (error) {
      this.fail(error);
    }
  }

  private onMessage(message: string): void {
    let remote: RemoteState;
    try {
      remote = JSON.parse(message) as RemoteState;
    } catch {
      return;
    }
    const entry = this.attached.get(remote.name);
    if (entry !== undefined) this.apply(entry, remote);
  }

  /** Applies a newer shared state; `force` applies it even when this instance wrote it. */
  private apply(entry: Attached, remote: RemoteState, force = false): void {
    if (!(remote.version > entry.version) && !force) return;
    entry.version = Math.max(entry.version, remote.version);
    if (remote.by === this.instanceId && !force) return;
    const { breaker } = entry;
    entry.fleetOpen = remote.state !== 'closed';
    this.applyingRemote = true;
    try {
      if (remote.state === 'isolated') {
        if (breaker.state !== 'isolated') breaker.isolate();
      } else if (remote.state === 'closed' && breaker.state === 'isolated') {
        breaker.close();
      } else {
        sharedStateAccess(breaker).applyRemoteState(remote.state, remote.nextAttemptAt);
        if (remote.state === 'open') this.scheduleElection(entry, remote.nextAttemptAt);
      }
    } finally {
      this.applyingRemote = false;
    }
  }

  /** Whether a change Redis missed during an outage still describes this breaker. */
  private stillLocal(entry: Attached, pending: NonNullable<Attached['unpublished']>): boolean {
    const { state } = entry.breaker;
    if (pending.state === 'open') return state === 'open' && pending.nextAttemptAt > Date.now();
    return state === pending.state;
  }

  private usable(): boolean {
    if (this.closed) return false;
    // 'wait', 'connecting' and 'connect' are a first connection in progress: commands queue
    // briefly (bounded by commandTimeoutMs). The others mean the connection is lost.
    const { status } = this.redis;
    if (status === 'reconnecting' || status === 'close' || status === 'end') {
      this.fail(new Error(`Redis connection is ${status}`));
      return false;
    }
    return true;
  }

  private succeed(): void {
    if (this.degraded) {
      this.degraded = false;
      this.lastError = undefined;
      this.logger.info({ breakers: this.attached.size }, 'Redis reachable again: circuit breaker state is shared again');
      void this.syncAll();
    }
  }

  private fail(error: unknown): void {
    if (this.closed) return; // a subscription or command cut short by close() is no outage
    this.lastError = error instanceof Error ? error.message : String(error);
    if (!this.degraded) {
      this.degraded = true;
      this.logger.warn(
        { err: this.lastError, breakers: this.attached.size },
        this.fleet === undefined
          ? 'Redis unreachable: circuit breakers fall back to local state in this process (each opens on its own rule and probes for itself)'
          : 'Redis unreachable: circuit breakers fall back to local state in this process (fleet rule suspended: each opens on its own rule and probes for itself)',
      );
    }
  }
}

const consoleLogger: SharedStateLogger = {
  warn: (obj, msg) => console.warn(`[hardening] ${msg ?? ''}`, obj),
  info: (obj, msg) => console.info(`[hardening] ${msg ?? ''}`, obj),
};

/**
 * Shares the state of every breaker in `registry` across processes through Redis, so that
 * when a provider is down every instance stops calling it, and one probe decides recovery.
 * See {@link SharedBreakerState} for the guarantees.
 *
 * @param registry - The registry whose breakers to share (e.g. `getDefaultRegistry()`).
 * @param options - See {@link SharedStateOptions}.
 * @returns A handle with `status()` and `close()`.
 * @throws TypeError when `redis` is missing or an option is out of range.
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { BreakerRegistry, shareBreakerState } from '@hardening/circuit-breaker';
 *
 * const registry = new BreakerRegistry();
 * const shared = shareBreakerState(registry, { redis: new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379') });
 * // ... every process that calls registry.get('twilio_sms') now shares its state ...
 * await shared.close();
 * ```
 */
export function shareBreakerState(registry: BreakerRegistry, options: SharedStateOptions): SharedBreakerState {
  return new SharedBreakerState(options).attachRegistry(registry);
}
