import type { BreakerRegistry, Logger } from '@hardening/core';
import { consoleLogger, isTransientError } from '@hardening/core';
import type { AlertServiceOptions, AlertResultEvent, AlertTypeOptions } from './alert-service-options.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { isSinkRejectedError } from './errors/sink-rejected-error.js';
import type { ResolvedEscalationPolicy } from './escalation/escalation-policy.js';
import { resolveEscalationPolicy } from './escalation/escalation-policy.js';
import type { InhibitRule } from './inhibition/inhibit-rules.js';
import { checkInhibitRules } from './inhibition/inhibit-rules.js';
import type { RouteTable } from './routing.js';
import { checkRoutes } from './routing.js';
import { createLogSink } from './sinks/log-sink.js';
import type { AlertSink } from './sinks/sink.js';
import type { AlertStore } from './store/alert-store.js';
import { createMemoryAlertStore } from './store/memory-store.js';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

/** The defaults of {@link AlertServiceOptions}, applied in {@link resolveAlertServiceOptions} only. */
export const defaults = {
  windowMs: 6 * hour,
  escalateAfterMs: 12 * hour,
  staleAfterMs: 24 * hour,
  ackTtlMs: 24 * hour,
  confirmTimeoutMs: 5 * minute,
  maintenanceIntervalMs: 10_000,
  historyRetentionMs: 30 * day,
  storeTimeoutMs: 20_000,
  storeSlowMs: 2000,
  pruneEveryMs: hour,
  pending: { initialDelayMs: 5000, factor: 2, maxDelayMs: 30_000, expireAfterMs: 6 * hour },
  pendingAlertAfterMs: 5 * minute,
  retry: { attempts: 3, initialDelayMs: 1000, factor: 2, maxDelayMs: 30_000, timeoutMs: 10_000 },
  breaker: { failureThreshold: 3, cooldownMs: 30_000 },
  storeBreaker: { failureThreshold: 5, cooldownMs: 10_000 },
};

const sinkNamePattern = /^[A-Za-z0-9_-]{1,40}$/;

function positive(value: unknown, field: string, allowFalse = false): void {
  if (allowFalse && value === false) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`Expected \`${field}\` to be a positive number of milliseconds${allowFalse ? ' or false' : ''}, got ${String(value)}.`);
  }
}

function truthy(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}

/** Whether a sink's error is worth a retry (and counts against its breaker). */
export const retryableSinkError = (error: unknown): boolean => isTransientError(error) || (isSinkRejectedError(error) && error.transient);

/** {@link AlertServiceOptions} checked, with every default applied. */
export interface ResolvedAlertServiceOptions {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly store: AlertStore;
  readonly durableStore: AlertStore | undefined;
  /** Remote and other non-log sinks, by name, in the order given. */
  readonly sinks: Map<string, AlertSink>;
  readonly logSink: AlertSink;
  /** Every sink name, the log sink's included. */
  readonly known: Set<string>;
  /** Names of the remote sinks, in the order given. */
  readonly remote: readonly string[];
  readonly routes: RouteTable;
  readonly types: Readonly<Record<string, AlertTypeOptions>>;
  readonly fallbackOrder: readonly string[];
  readonly windowMs: number;
  readonly escalateAfterMs: number | false;
  /** The service's escalation policy: `undefined` means the default policy (`escalateAfterMs`). */
  readonly escalation: ResolvedEscalationPolicy | false | undefined;
  /** Types with a policy of their own (`false`: never escalated). */
  readonly typeEscalation: Readonly<Record<string, ResolvedEscalationPolicy | false>>;
  readonly ackTtlMs: number;
  readonly staleAfterMs: number;
  /** `default`: the store's HIGH-mutes-lower rule; `false`: none; else the configured rules. */
  readonly inhibit: 'default' | false | readonly InhibitRule[];
  readonly confirmTimeoutMs: number;
  readonly historyRetentionMs: number;
  readonly storeTimeoutMs: number;
  readonly storeSlowMs: number;
  readonly storeBreaker: typeof defaults.storeBreaker;
  readonly designatedSender: boolean | undefined;
  readonly pending: typeof defaults.pending;
  readonly pendingAlertAfterMs: number | false;
  readonly maintenanceIntervalMs: number | false;
  readonly onResult: ((event: AlertResultEvent) => void) | undefined;
  readonly retry: typeof defaults.retry;
  readonly breaker: false | (typeof defaults.breaker & { readonly isFailure: (error: unknown) => boolean });
  readonly registry: BreakerRegistry | undefined;
  readonly disabled: boolean;
  readonly disabledReason: string | undefined;
  readonly banner: ((text: string) => void) | undefined;
}

/**
 * Checks {@link AlertServiceOptions} and applies the defaults, in one place.
 *
 * @param options - The options given to the service.
 * @returns The checked options with every default applied.
 * @throws TypeError for an invalid option (unknown sink in a route, duplicate sink name, bad duration).
 * @example
 * ```ts
 * const resolved = resolveAlertServiceOptions({ windowMs: 3_600_000 });
 * resolved.escalateAfterMs; // 43_200_000 (the default)
 * ```
 */
export function resolveAlertServiceOptions(options: AlertServiceOptions = {}): ResolvedAlertServiceOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected `options` to be an object.');
  const logger = options.logger ?? consoleLogger({ component: 'alerting' });
  const clock = options.clock ?? systemClock;
  const store = options.store ?? createMemoryAlertStore();
  if (typeof store.claim !== 'function' || typeof store.append !== 'function') {
    throw new TypeError('Expected `store` to be an AlertStore (createMemoryAlertStore, createRedisAlertStore, createPrismaAlertStore).');
  }
  const given = options.sinks ?? [];
  if (!Array.isArray(given)) throw new TypeError('Expected `sinks` to be an array of alert sinks.');
  const sinks = new Map<string, AlertSink>();
  let logSink: AlertSink | undefined;
  for (const sink of given as AlertSink[]) {
    if (typeof sink?.send !== 'function' || typeof sink.name !== 'string' || !sinkNamePattern.test(sink.name)) {
      throw new TypeError('Expected every entry of `sinks` to be an AlertSink with a name (letters, digits, _ or -) and send().');
    }
    if (sinks.has(sink.name) || logSink?.name === sink.name)
      throw new TypeError(`Two sinks are named ${JSON.stringify(sink.name)}: sink names must be unique.`);
    if (sink.name === 'log') logSink = sink;
    else sinks.set(sink.name, sink);
  }
  logSink ??= createLogSink({ logger });
  const known = new Set([...sinks.keys(), logSink.name]);
  const routes = checkRoutes(options.routes, known, 'routes');
  const types = options.types ?? {};
  if (typeof types !== 'object' || types === null) throw new TypeError('Expected `types` to be an object keyed by alert type.');
  for (const [type, settings] of Object.entries(types)) {
    checkRoutes(settings.routes, known, `types.${type}.routes`);
    if (settings.windowMs !== undefined) positive(settings.windowMs, `types.${type}.windowMs`);
    if (settings.escalateAfterMs !== undefined) positive(settings.escalateAfterMs, `types.${type}.escalateAfterMs`, true);
    if (settings.groupWaitMs !== undefined) {
      positive(settings.groupWaitMs, `types.${type}.groupWaitMs`);
      if (settings.groupWaitMs > 10 * minute)
        throw new TypeError(`Expected \`types.${type}.groupWaitMs\` to be at most 10 minutes: an alert must not wait longer.`);
    }
    if (settings.groupTitle !== undefined && typeof settings.groupTitle !== 'function')
      throw new TypeError(`Expected \`types.${type}.groupTitle\` to be a function.`);
  }
  const typeEscalation: Record<string, ResolvedEscalationPolicy | false> = {};
  for (const [type, settings] of Object.entries(types)) {
    if (settings.escalation !== undefined) {
      typeEscalation[type] = settings.escalation === false ? false : resolveEscalationPolicy(settings.escalation, known, `types.${type}.escalation`);
    }
  }
  const escalation =
    options.escalation === undefined || options.escalation === false ? options.escalation : resolveEscalationPolicy(options.escalation, known, 'escalation');
  const ackTtlMs = options.ackTtlMs ?? defaults.ackTtlMs;
  positive(ackTtlMs, 'ackTtlMs');
  const remote = [...sinks.values()].filter((s) => s.remote !== false).map((s) => s.name);
  const fallbackOrder = options.fallbackOrder ?? [...sinks.keys()];
  if (!Array.isArray(fallbackOrder) || !fallbackOrder.every((name) => typeof name === 'string' && known.has(name))) {
    throw new TypeError(`Expected \`fallbackOrder\` to list configured sinks (${[...known].join(', ')}).`);
  }
  const windowMs = options.windowMs ?? defaults.windowMs;
  positive(windowMs, 'windowMs');
  const escalateAfterMs = options.escalateAfterMs ?? defaults.escalateAfterMs;
  positive(escalateAfterMs, 'escalateAfterMs', true);
  const staleAfterMs = options.staleAfterMs ?? defaults.staleAfterMs;
  positive(staleAfterMs, 'staleAfterMs');
  if (options.inhibit !== undefined && typeof options.inhibit !== 'boolean') throw new TypeError('Expected `inhibit` to be a boolean.');
  const inhibit = options.inhibit === false ? false : options.inhibitRules === undefined ? ('default' as const) : checkInhibitRules(options.inhibitRules);
  const confirmTimeoutMs = options.confirmTimeoutMs ?? defaults.confirmTimeoutMs;
  positive(confirmTimeoutMs, 'confirmTimeoutMs');
  const historyRetentionMs = options.historyRetentionMs ?? defaults.historyRetentionMs;
  positive(historyRetentionMs, 'historyRetentionMs');
  const storeTimeoutMs = options.storeTimeoutMs ?? defaults.storeTimeoutMs;
  positive(storeTimeoutMs, 'storeTimeoutMs');
  const durableStore = options.durableStore;
  if (durableStore !== undefined && (typeof durableStore?.claim !== 'function' || typeof durableStore.append !== 'function')) {
    throw new TypeError('Expected `durableStore` to be an AlertStore (createPrismaAlertStore, say).');
  }
  if (options.designatedSender !== undefined && typeof options.designatedSender !== 'boolean') {
    throw new TypeError('Expected `designatedSender` to be a boolean.');
  }
  const pending = { ...defaults.pending, ...options.pendingRetry };
  positive(pending.initialDelayMs, 'pendingRetry.initialDelayMs');
  positive(pending.maxDelayMs, 'pendingRetry.maxDelayMs');
  positive(pending.expireAfterMs, 'pendingRetry.expireAfterMs');
  if (typeof pending.factor !== 'number' || !(pending.factor >= 1))
    throw new TypeError(`Expected \`pendingRetry.factor\` to be a number of at least 1, got ${String(pending.factor)}.`);
  const pendingAlertAfterMs = options.pendingAlertAfterMs ?? defaults.pendingAlertAfterMs;
  positive(pendingAlertAfterMs, 'pendingAlertAfterMs', true);
  const maintenanceIntervalMs = options.maintenanceIntervalMs ?? defaults.maintenanceIntervalMs;
  positive(maintenanceIntervalMs, 'maintenanceIntervalMs', true);

  const retry = { ...defaults.retry, ...options.retry };
  if (!Number.isInteger(retry.attempts) || retry.attempts < 1 || retry.attempts > 10) {
    throw new TypeError(`Expected \`retry.attempts\` to be an integer from 1 to 10, got ${String(retry.attempts)}.`);
  }
  const breaker = options.retry?.breaker === false ? false : { ...defaults.breaker, ...options.retry?.breaker, isFailure: retryableSinkError };
  const storeSlowMs = options.storeSlowMs ?? defaults.storeSlowMs;
  positive(storeSlowMs, 'storeSlowMs');
  const storeBreaker = {
    failureThreshold: options.storeBreaker?.failureThreshold ?? defaults.storeBreaker.failureThreshold,
    cooldownMs: options.storeBreaker?.cooldownMs ?? defaults.storeBreaker.cooldownMs,
  };
  if (!Number.isInteger(storeBreaker.failureThreshold) || storeBreaker.failureThreshold < 1) {
    throw new TypeError(`Expected \`storeBreaker.failureThreshold\` to be a positive integer, got ${String(storeBreaker.failureThreshold)}.`);
  }
  positive(storeBreaker.cooldownMs, 'storeBreaker.cooldownMs');

  const env = options.env ?? process.env;
  const disabled = options.disabled ?? truthy(env.ALERTS_DISABLED);
  const disabledReason =
    options.disabled === true ? 'alerts disabled by configuration (disabled: true)' : disabled ? `ALERTS_DISABLED=${env.ALERTS_DISABLED}` : undefined;
  return {
    logger,
    clock,
    store,
    durableStore,
    sinks,
    logSink,
    known,
    remote,
    routes,
    types,
    fallbackOrder,
    windowMs,
    escalateAfterMs,
    escalation,
    typeEscalation,
    ackTtlMs,
    staleAfterMs,
    inhibit,
    confirmTimeoutMs,
    historyRetentionMs,
    storeTimeoutMs,
    storeSlowMs,
    storeBreaker,
    designatedSender: options.designatedSender,
    pending,
    pendingAlertAfterMs,
    maintenanceIntervalMs,
    onResult: options.onResult,
    retry,
    breaker,
    registry: options.registry,
    disabled,
    disabledReason,
    banner: options.banner,
  };
}
