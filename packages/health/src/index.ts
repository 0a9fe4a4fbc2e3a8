export { worstStatus, httpStatusFor } from './health-status.js';
export type { HealthStatus, ComponentType } from './health-status.js';
export { defineCheck } from './health-check.js';
export type { HealthCheck, CheckObservation, CheckOutcome, CheckContext, DefineCheckOptions } from './health-check.js';
export { HealthMonitor } from './health-monitor.js';
export type { HealthMonitorOptions, CheckResult, HealthReport, LifecycleState, CheckStatusChange } from './health-monitor.js';
export type { HealthResponseBody, HealthCheckEntry } from './health-response.js';
export { createHealthHandler } from './health-handler.js';
export type { HealthHandler, HealthHandlerOptions, HealthRequest, HealthResponse } from './health-handler.js';
export { createHealthRouter } from './express-router.js';
export type { AuthFailureLimitOptions } from './auth-failure-limiter.js';
export type { HealthRouter } from './express-router.js';
export { GracefulShutdown } from './graceful-shutdown.js';
export type { GracefulShutdownOptions, ShutdownAware, SignalSource, Cleanup, ShutdownPhase } from './graceful-shutdown.js';
export { RecoveryManager } from './recovery-manager.js';
export type {
  RecoveryManagerOptions,
  RecoveryLimits,
  RecoveryAction,
  RecoveryContext,
  RecoveryTrigger,
  RecoveryAttempt,
  RecoveryStats,
  ServiceRecoveryStats,
} from './recovery-manager.js';
export { startAutoRecovery } from './auto-recovery.js';
export type { AutoRecovery, AutoRecoveryOptions } from './auto-recovery.js';
export { RecoveryRefusedError, isRecoveryRefusedError } from './errors/recovery-refused-error.js';
export type { RecoveryRefusalReason } from './errors/recovery-refused-error.js';
export { EnvValidationError, isEnvValidationError } from './errors/env-validation-error.js';
export type { EnvProblem } from './errors/env-validation-error.js';
export { validateEnv } from './validate-env.js';
export type { ValidateEnvOptions, StandardSchema, StandardResult, EnvOutput } from './validate-env.js';
export type { CommonCheckOptions } from './checks/check-options.js';
export { postgresCheck } from './checks/postgres-check.js';
export type { PostgresCheckOptions, PrismaQueryRaw, SqlQueryClient } from './checks/postgres-check.js';
export { redisCheck } from './checks/redis-check.js';
export type { RedisCheckOptions, RedisPingClient } from './checks/redis-check.js';
export { envCheck } from './checks/env-check.js';
export type { EnvCheckOptions } from './checks/env-check.js';
export { circuitBreakerCheck } from './checks/circuit-breaker-check.js';
export type { CircuitBreakerCheckOptions, BreakerSnapshotSource } from './checks/circuit-breaker-check.js';
export { alertSystemCheck } from './checks/alert-system-check.js';
export type { AlertSystemCheckOptions, AlertSystemStatus, AlertSystemStatusSource } from './checks/alert-system-check.js';
export { queueBacklogCheck } from './checks/queue-backlog-check.js';
export type { QueueBacklogCheckOptions } from './checks/queue-backlog-check.js';
export { eventLoopDelayCheck } from './checks/event-loop-delay-check.js';
export type { EventLoopDelayCheckOptions } from './checks/event-loop-delay-check.js';
export { healthChannels } from './telemetry.js';
// Re-exported from core (one definition for every package), kept for existing imports.
export { systemTimers } from '@hardening/core';
export type { Timers } from '@hardening/core';
