export { CircuitBreaker } from './circuit-breaker.js';
export type { CircuitBreakerSnapshot, SavedBreakerState, StateChangeListener } from './circuit-breaker.js';
export type { CircuitState, StateChange, StateChangeReason } from './circuit-state.js';
export { CircuitOpenError, isCircuitOpenError } from './circuit-open-error.js';
export { breakerDefaults } from './options.js';
export type { CircuitBreakerOptions, ResolvedBreakerOptions } from './options.js';
export type { SlidingWindowOptions, WindowTotals } from './sliding-window.js';
export { BreakerRegistry, getDefaultRegistry } from './breaker-registry.js';
export type { BreakerRegistryOptions, BreakerAddedListener } from './breaker-registry.js';
export { SharedBreakerState, shareBreakerState } from './redis-shared-state.js';
export type {
  SharedStateOptions,
  SharedStateRedisClient,
  SharedStateSubscriber,
  SharedStateLogger,
  SharedStateStatus,
} from './redis-shared-state.js';
export type { FleetRuleOptions } from './fleet-rule.js';
export { systemClock } from './clock.js';
export type { Clock } from './clock.js';
export { TelemetryScope, WeakCollection, metricNaming, setMetricNaming } from './telemetry-scope.js';
export type { LiveTelemetry, MetricNaming } from './telemetry-scope.js';
export { breakerChannels } from './telemetry.js';
export type { BreakerCallKind } from './telemetry.js';
