import type { SafeCall } from '@hardening/core';
import { BreakerRegistry, createSafeCall } from '@hardening/core';
import { isStoreDownError } from './claims/store-health.js';
import type { ResolvedAlertServiceOptions } from './resolve-alert-service-options.js';
import { retryableSinkError } from './resolve-alert-service-options.js';

/**
 * The `safeCall` the alert service calls its sinks and stores through: sinks with the
 * configured retry and per-sink breaker, the two stores (`alert_store`,
 * `alert_store_durable`) with a policy of their own.
 *
 * @param resolved - The service's resolved options.
 * @returns The configured `safeCall`.
 * @example
 * const safeCall = createAlertSafeCall(resolveAlertServiceOptions(options));
 */
export function createAlertSafeCall(resolved: ResolvedAlertServiceOptions): SafeCall {
  const { retry } = resolved;
  const safeCall = createSafeCall({
    registry: resolved.registry ?? new BreakerRegistry(),
    logger: resolved.logger,
    defaults: {
      attempts: retry.attempts,
      timeoutMs: retry.timeoutMs,
      backoff: { initialDelayMs: retry.initialDelayMs, factor: retry.factor, maxDelayMs: retry.maxDelayMs, jitter: 'none' },
      retryable: retryableSinkError,
      breaker: resolved.breaker,
      // Alerts are rare; the per-sink breaker already stops retries against a dead provider.
      retryBudget: false,
      slowCallThresholdMs: 15_000,
    },
  });
  // A slow store is waited for (up to storeTimeoutMs); only a store known down (refused,
  // reset, closed) is retried once, and `storeBreaker.failureThreshold` failures (five by
  // default) open the breaker: then claims fall back at once instead of waiting.
  for (const operation of ['alert_store', 'alert_store_durable']) {
    safeCall.configure(operation, {
      attempts: 2,
      timeoutMs: resolved.storeTimeoutMs,
      backoff: { initialDelayMs: 50, factor: 2, maxDelayMs: 1000, jitter: 'none' },
      retryable: isStoreDownError,
      breaker: { ...resolved.storeBreaker },
    });
  }
  return safeCall;
}
