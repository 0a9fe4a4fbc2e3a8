// @hardening/alerting/detectors: failure trackers, stuck-state detection, the runtime monitor
// and its fleet lock. Also re-exported by the package root (kept for existing imports).
export { FailureTracker } from './failure-tracker.js';
export type { FailureTrackerOptions, FailureRule, FailureState } from './failure-tracker.js';
export { StuckStateDetector, humanDuration } from './stuck-state-detector.js';
export type { StuckStateDetectorOptions, TrackedEntity, StuckEntity, StuckCheckReport, TimeLike } from './stuck-state-detector.js';
export { RuntimeMonitor } from './runtime-monitor.js';
export type {
  RuntimeMonitorOptions,
  RuntimeCheck,
  RuntimeCheckContext,
  Invariant,
  MonitorTimers,
  CheckStatus,
  RoundReport,
  InvariantViolation,
  InvariantReport,
  UncheckedInvariant,
} from './runtime-monitor.js';
export { createRedisMonitorLock, createPostgresMonitorLock } from './monitor-lock.js';
export type { MonitorLock, RedisMonitorLockOptions, PostgresMonitorLockOptions, PgSessionClient } from './monitor-lock.js';
