import type { CircuitState } from '@hardening/core';
import type { Severity } from '../alert.js';
import { severities } from '../alert.js';
import type { AlertSystemStatus } from '../alert-service-options.js';
import type { ClaimPath } from '../claims/claim-gate.js';
import { sinkOperation } from '../delivery.js';
import type { HistoryWriter } from '../history-writer.js';
import { routeFor } from '../routing.js';
import type { AlertRuntime } from '../runtime.js';
import type { SilenceInfo } from '../silences.js';

/** What {@link buildAlertSystemStatus} reads: the service's parts, as they are now. */
export interface StatusParts {
  readonly runtime: AlertRuntime;
  readonly now: number;
  /** Why the service is off (`ALERTS_DISABLED`), when it is. */
  readonly disabledReason: string | undefined;
  readonly disabled: boolean;
  readonly closed: boolean;
  readonly pending: { readonly count: number; readonly oldestAt: number | undefined };
  readonly history: HistoryWriter['state'];
  readonly lastClaimVia: ClaimPath;
  /** Kind of the claim store and of the store that owns history. */
  readonly storeKind: string;
  readonly historyStoreKind: string;
  readonly silences: readonly SilenceInfo[];
  readonly acknowledged: AlertSystemStatus['acknowledged'];
}

/**
 * The state of the alert system (the body of `AlertService.getAlertSystemStatus`):
 * `enabled` means not disabled, not closed and at least one remote sink, as the README says;
 * `healthy` means enabled and no problem (a store slow or down, a sink's breaker open, pages
 * pending, history kept in memory, the last claim decided by a fallback rule).
 *
 * @param parts - See {@link StatusParts}.
 * @returns See {@link AlertSystemStatus}.
 * @example
 * ```ts
 * const status = buildAlertSystemStatus({ runtime, now: clock.now(), ...parts });
 * if (!status.healthy) console.warn(status.problems.join('\n'));
 * ```
 */
export function buildAlertSystemStatus(parts: StatusParts): AlertSystemStatus {
  const { runtime, now, pending, history, lastClaimVia } = parts;
  const remote = [...runtime.sinks.values()].filter((s) => s.remote !== false);
  let reason: string | undefined;
  if (parts.disabled) reason = parts.disabledReason;
  else if (parts.closed) reason = 'alert service closed';
  else if (remote.length === 0) reason = 'no remote sink configured: alerts only reach the logs';
  const breakers: Record<string, CircuitState> = {};
  for (const sink of remote) breakers[sink.name] = runtime.safeCall.registry.find(sinkOperation(sink.name))?.state ?? 'closed';
  const routes = {} as Record<Severity, readonly string[]>;
  for (const severity of severities) routes[severity] = routeFor(severity, undefined, runtime.routes, runtime.known, runtime.firstRemote, runtime.logSink.name);
  const stores = [runtime.primaryHealth.state, ...(runtime.durableHealth !== undefined ? [runtime.durableHealth.state] : [])];
  const problems: string[] = [];
  for (const store of stores)
    if (store.state !== 'up') problems.push(`alert store ${store.store} ${store.state}${store.reason !== undefined ? `: ${store.reason}` : ''}`);
  for (const [name, state] of Object.entries(breakers)) if (state !== 'closed') problems.push(`sink ${name}: breaker ${state}`);
  if (pending.count > 0) problems.push(`${pending.count} page(s) pending since ${new Date(pending.oldestAt ?? now).toISOString()}`);
  if (history.failingSince !== undefined)
    problems.push(`${history.queued} history row(s) kept in memory since ${history.failingSince}: ${history.lastError ?? 'store unavailable'}`);
  if (lastClaimVia !== 'store' && lastClaimVia !== 'durable') problems.push(`last dedup claim decided by the ${lastClaimVia} rule (every store unavailable)`);
  return {
    enabled: reason === undefined,
    ...(reason !== undefined ? { reason } : {}),
    healthy: reason === undefined && problems.length === 0,
    problems,
    sinks: [...runtime.known],
    routes,
    store: parts.storeKind,
    storeHealthy: runtime.primaryHealth.state.state !== 'down',
    stores,
    historyStore: parts.historyStoreKind,
    history,
    claimedVia: lastClaimVia,
    pending: { count: pending.count, ...(pending.oldestAt !== undefined ? { oldestAt: new Date(pending.oldestAt).toISOString() } : {}) },
    ...(runtime.lastDeliveryAt !== undefined ? { lastDeliveryAt: new Date(runtime.lastDeliveryAt).toISOString() } : {}),
    ...(runtime.lastFailure !== undefined
      ? { lastFailureAt: new Date(runtime.lastFailure.at).toISOString(), lastFailure: { sink: runtime.lastFailure.sink, reason: runtime.lastFailure.reason } }
      : {}),
    silences: parts.silences,
    acknowledged: parts.acknowledged,
    breakers,
  };
}
