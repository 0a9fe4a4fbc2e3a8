import type { AlertInput, AlertResult } from '../alert.js';
import type { StoreState } from '../claims/store-health.js';
import { sinkOperation } from '../delivery.js';
import type { AlertRuntime } from '../runtime.js';
import { claimStoreDownPage, releaseStoreDownPages, storeBackUp, storeIdentity } from './self-page-registry.js';

const minute = 60_000;

/** Types of the alerts the service raises about itself. */
export const selfAlert = { storeDown: 'ALERTING_STORE_UNAVAILABLE', sinkFailing: 'ALERTING_SINK_FAILING', pagesPending: 'ALERTING_PAGES_PENDING' } as const;

/** What {@link SelfWatch} needs besides the runtime. */
export interface SelfWatchOptions {
  /** Raises an alert through the service (whatever still works: the log at least). */
  readonly raise: (input: AlertInput) => Promise<AlertResult>;
  /** Pages pending, as last counted. */
  readonly pendingSummary: () => { readonly count: number; readonly oldestAt: number | undefined };
  /** A page pending this long is raised, or `false`. */
  readonly pendingAlertAfterMs: number | false;
  /** Whether the service was closed (nothing is raised then). */
  readonly closed: () => boolean;
}

/**
 * The alert system watching itself: a store going down, a sink whose breaker opened, and
 * pages pending too long are raised as alerts of their own (`ALERTING_*`).
 */
export class SelfWatch {
  /** Sinks whose open breaker was already raised (until it closes again). */
  private readonly raisedSinks = new Set<string>();

  constructor(
    private readonly runtime: AlertRuntime,
    private readonly options: SelfWatchOptions,
  ) {}

  /** The identity (self-page-registry.ts) of the store a health state names. */
  private identityOf(state: StoreState): string {
    const { runtime } = this;
    const durable = runtime.durableHealth !== undefined && state.store === `${runtime.durable.kind} (durable)`;
    return storeIdentity(durable ? runtime.durable : runtime.store);
  }

  /**
   * A store changed state: log it, and raise it when it went down (through what still
   * works), once per process: the first service of the process to see this store go down
   * pages, the others only log (self-page-registry.ts).
   */
  storeChanged(next: StoreState, previous: StoreState): void {
    const { logger } = this.runtime;
    if (next.state === 'down') {
      logger.error({ store: next.store, reason: next.reason }, `ALERT STORE DOWN: ${next.store} (${next.reason ?? 'unknown'}); claims fall back`);
      if (!claimStoreDownPage(this.identityOf(next), this)) {
        logger.warn({ store: next.store }, `alert store ${next.store} down: already paged by another alert service of this process`);
        return;
      }
      // Later, not inside the failing store call; the claim of this alert falls back too.
      setImmediate(() => {
        if (this.options.closed()) return;
        void this.options.raise({
          type: selfAlert.storeDown,
          severity: 'HIGH',
          resourceId: next.store,
          title: `Alert store ${next.store} unavailable`,
          message: `${next.reason ?? 'no answer'}. Dedup now uses ${this.runtime.durableHealth !== undefined ? 'the durable store, then ' : ''}the fallback rule; history may be incomplete.`,
        });
      });
    } else if (previous.state === 'down') {
      storeBackUp(this.identityOf(next));
      logger.warn({ store: next.store, downFor: this.runtime.clock.now() - previous.since }, `alert store ${next.store} answers again`);
    } else if (next.state === 'slow') {
      logger.warn({ store: next.store, reason: next.reason }, `alert store ${next.store} is slow (${next.reason}); claims wait for it`);
    }
  }

  /** The service closed: outages it paged are forgotten, so the next service pages the next one. */
  close(): void {
    releaseStoreDownPages(this);
  }

  /** Raises sinks whose breaker is open and pages pending too long (one maintenance step). */
  async check(now: number): Promise<void> {
    const { runtime } = this;
    for (const sink of runtime.sinks.values()) {
      if (sink.remote === false) continue;
      const state = runtime.safeCall.registry.find(sinkOperation(sink.name))?.state ?? 'closed';
      if (state === 'open' && !this.raisedSinks.has(sink.name)) {
        this.raisedSinks.add(sink.name);
        await this.options.raise({
          type: selfAlert.sinkFailing,
          severity: 'HIGH',
          resourceId: sink.name,
          title: `Alert sink ${sink.name} failing`,
          message: `Its breaker is open: ${runtime.lastFailure?.sink === sink.name ? runtime.lastFailure.reason : 'repeated failures'}. Alerts fall back to other sinks.`,
        });
      } else if (state === 'closed') {
        this.raisedSinks.delete(sink.name);
      }
    }
    const { count, oldestAt } = this.options.pendingSummary();
    const after = this.options.pendingAlertAfterMs;
    if (after !== false && count > 0 && oldestAt !== undefined && now - oldestAt >= after) {
      await this.options.raise({
        type: selfAlert.pagesPending,
        severity: 'HIGH',
        title: `${count} alert page${count === 1 ? '' : 's'} undelivered`,
        message: `The oldest has waited ${Math.round((now - oldestAt) / minute)} min; no sink took it. Check the sinks' providers.`,
      });
    }
  }
}
