import type { Logger, SafeCall } from '@hardening/core';
import type { Severity } from './alert.js';
import type { Clock } from './clock.js';
import type { StoreState } from './claims/store-health.js';
import { StoreHealth } from './claims/store-health.js';
import type { DeliveryReport } from './delivery.js';
import { Deliverer, describeError } from './delivery.js';
import type { AlertTypeOptions } from './alert-service-options.js';
import type { RouteTable } from './routing.js';
import { routeFor } from './routing.js';
import type { AlertSink } from './sinks/sink.js';
import type { AlertHistoryEntry, AlertStore } from './store/alert-store.js';

/** What the {@link AlertRuntime} is built from (resolved options and the service's shared parts). */
export interface AlertRuntimeOptions {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly store: AlertStore;
  readonly durableStore: AlertStore | undefined;
  readonly sinks: ReadonlyMap<string, AlertSink>;
  readonly logSink: AlertSink;
  readonly known: ReadonlySet<string>;
  readonly remote: readonly string[];
  readonly routes: RouteTable;
  readonly types: Readonly<Record<string, AlertTypeOptions>>;
  readonly fallbackOrder: readonly string[];
  readonly storeSlowMs: number;
  readonly safeCall: SafeCall;
  /** Called when a store changes state (up, slow, down). */
  readonly onStoreChanged: (next: StoreState, previous: StoreState) => void;
}

/**
 * The parts every piece of the alert service shares: the stores behind `safeCall` with
 * their health, the deliverer, routes, the history queue and the last delivery and
 * failure seen. The service (an orchestrator) and its modules (maintenance round,
 * escalation, SMS fail-over, acknowledgements) all work through one runtime, so none of
 * them reaches into another.
 */
export class AlertRuntime {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly store: AlertStore;
  /** The durable store (history, pending pages, receipts, acks, timers): `durableStore`, else `store`. */
  readonly durable: AlertStore;
  readonly primaryHealth: StoreHealth;
  readonly durableHealth: StoreHealth | undefined;
  readonly sinks: ReadonlyMap<string, AlertSink>;
  readonly logSink: AlertSink;
  readonly known: ReadonlySet<string>;
  readonly routes: RouteTable;
  readonly types: Readonly<Record<string, AlertTypeOptions>>;
  readonly fallbackOrder: readonly string[];
  readonly firstRemote: string | undefined;
  readonly safeCall: SafeCall;
  readonly deliverer: Deliverer;
  /** Set once by the service: queues a history row (write-behind). */
  recordSink: (entry: AlertHistoryEntry) => void = () => undefined;
  lastDeliveryAt: number | undefined;
  lastFailure: { at: number; sink: string; reason: string } | undefined;

  constructor(options: AlertRuntimeOptions) {
    this.logger = options.logger;
    this.clock = options.clock;
    this.store = options.store;
    this.durable = options.durableStore ?? options.store;
    this.sinks = options.sinks;
    this.logSink = options.logSink;
    this.known = options.known;
    this.routes = options.routes;
    this.types = options.types;
    this.fallbackOrder = options.fallbackOrder;
    this.firstRemote = options.remote[0];
    this.safeCall = options.safeCall;
    this.deliverer = new Deliverer(options.sinks, options.logSink, options.safeCall, options.logger);
    const started = this.clock.now();
    this.primaryHealth = new StoreHealth(this.store.kind, options.storeSlowMs, options.onStoreChanged, started);
    this.durableHealth =
      options.durableStore === undefined
        ? undefined
        : new StoreHealth(`${options.durableStore.kind} (durable)`, options.storeSlowMs, options.onStoreChanged, started);
  }

  /**
   * A store call under `safeCall` (timeout `storeTimeoutMs`, one retry when known down,
   * breaker); tracks the store's health (up, slow, down).
   */
  async storeCall<T>(which: 'primary' | 'durable', fn: () => Promise<T>): Promise<T> {
    const useDurable = which === 'durable' && this.durableHealth !== undefined;
    const health = useDurable ? this.durableHealth : this.primaryHealth;
    const started = performance.now();
    try {
      const value = await this.safeCall(useDurable ? 'alert_store_durable' : 'alert_store', () => fn());
      health.answered(performance.now() - started, this.clock.now());
      return value;
    } catch (error) {
      health.failed(error, describeError(error), this.clock.now());
      throw error;
    }
  }

  /** A call on the durable store (the primary when no `durableStore` is configured). */
  durableCall<T>(fn: () => Promise<T>): Promise<T> {
    return this.storeCall(this.durable === this.store ? 'primary' : 'durable', fn);
  }

  /** Queues a history row (write-behind, scrubbed by the service's writer). */
  record(entry: AlertHistoryEntry): void {
    this.recordSink(entry);
  }

  /** Notes what a delivery did (last delivery, last failure) for the status. */
  noteReport(report: DeliveryReport, now: number): void {
    if (report.delivered.some((name) => name !== this.logSink.name)) this.lastDeliveryAt = now;
    const last = report.failed.at(-1);
    if (last !== undefined) this.lastFailure = { at: now, sink: last.sink, reason: last.reason };
  }

  /** The route of an alert of `type` at `severity`. */
  routeOf(severity: Severity, type: string): readonly string[] {
    return routeFor(severity, this.types[type]?.routes, this.routes, this.known, this.firstRemote, this.logSink.name);
  }

  /** Records the delivery on the key (primary, and the durable store when separate). */
  async markDelivered(member: { type: string; key: string; id?: string; alertId?: string }, now: number, sinks: readonly string[]): Promise<void> {
    const request = { type: member.type, key: member.key, alertId: member.alertId ?? member.id!, at: now, sinks };
    await this.storeCall('primary', () => this.store.markDelivered(request)).catch(() => undefined);
    if (this.durable !== this.store) await this.durableCall(() => this.durable.markDelivered(request)).catch(() => undefined);
  }

  /** Frees the key held by the alert (primary, and the durable store when separate). */
  async releaseKey(member: { type: string; key: string; id?: string; alertId?: string }, now: number): Promise<void> {
    const request = { type: member.type, key: member.key, alertId: member.alertId ?? member.id!, at: now };
    await this.storeCall('primary', () => this.store.release(request)).catch(() => undefined);
    if (this.durable !== this.store) await this.durableCall(() => this.durable.release(request)).catch(() => undefined);
  }
}
