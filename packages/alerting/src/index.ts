export { AlertService, createAlertService } from './alert-service.js';
export type {
  AlertServiceOptions,
  AlertTypeOptions,
  SinkRetryOptions,
  StoreBreakerOptions,
  AlertSystemStatus,
  AlertResultEvent,
  RestoreSilence,
  ResolveInput,
  DeliveryStatusUpdate,
  DeliveryStatusOutcome,
  MaintenanceReport,
} from './alert-service-options.js';
export type { Severity, AlertInput, AlertLink, AlertKind, AlertMessage, AlertStatus, AlertResult } from './alert.js';
export type { Clock } from './clock.js';
export type { AcknowledgeOptions, AcknowledgeResult, AckRecord, AckTarget } from './acknowledgements/acknowledgements.js';
export type { SmsAckOutcome } from './acknowledgements/sms-ack.js';
export { ackCode, parseAckReply } from './acknowledgements/ack-code.js';
export type { AckReply } from './acknowledgements/ack-code.js';
export type { EscalationPolicy, EscalationStep } from './escalation/escalation-policy.js';
export type { RouteTable } from './routing.js';
export { defaultRoutes } from './routing.js';
export type { SilenceMatcher, SilenceOptions, SilenceInfo, SilenceRecord } from './silences.js';
export type { AlertStats, OutcomeCounts } from './stats.js';
export type { OpenAlert, RecentAlert, RecentAlertsOptions, SinkOutcome } from './open-alerts.js';
export type { AlertSink, SinkContext, SinkReceipt } from './sinks/sink.js';
export { createTwilioSmsSink } from './sinks/twilio-sms-sink.js';
export type { TwilioSmsSinkOptions, TwilioMessagesClient } from './sinks/twilio-sms-sink.js';
export { parseOnCallNumbers } from './sinks/phone-numbers.js';
export { createSlackSink } from './sinks/slack-sink.js';
export type { SlackSinkOptions, SlackChatClient } from './sinks/slack-sink.js';
export { createSentrySink } from './sinks/sentry-sink.js';
export type { SentrySinkOptions, SentryLike, SentryClientLike, SentrySendResponse } from './sinks/sentry-sink.js';
export { createLogSink } from './sinks/log-sink.js';
export type { LogSinkOptions } from './sinks/log-sink.js';
export { createWebhookSink } from './sinks/webhook-sink.js';
export type { WebhookSinkOptions } from './sinks/webhook-sink.js';
export { createPagerDutySink, pagerDutyEvent } from './sinks/pagerduty-sink.js';
export type { PagerDutySinkOptions } from './sinks/pagerduty-sink.js';
export type {
  AlertStore,
  AlertOutcome,
  ClaimRequest,
  ClaimResult,
  ActiveAlertRecord,
  AlertHistoryEntry,
  TrackedDelivery,
  OutcomeCount,
} from './store/alert-store.js';
export { createMemoryAlertStore } from './store/memory-store.js';
export type { MemoryAlertStoreOptions } from './store/memory-store.js';
export { createRedisAlertStore } from './store/redis-store.js';
export type { RedisAlertStoreOptions, RedisEvalClient } from './store/redis-store.js';
export { createPrismaAlertStore } from './store/prisma-store.js';
export type { PrismaAlertStoreOptions, PrismaRawClient } from './store/prisma-store.js';
export { SinkRejectedError, isSinkRejectedError } from './errors/sink-rejected-error.js';
export { DeliveryUnconfirmedError, isDeliveryUnconfirmedError } from './errors/delivery-unconfirmed-error.js';
export { AlertStoreUnavailableError, isAlertStoreUnavailableError } from './errors/store-unavailable-error.js';
export type { ClaimPath } from './claims/claim-gate.js';
export type { StoreState } from './claims/store-health.js';
export type { HistoryQueueState } from './history-writer.js';
export type { AlertingErrorCode } from './errors/codes.js';
export { createTwilioStatusCallbackHandler } from './http/twilio-status-callback.js';
export type { TwilioStatusCallbackOptions, StatusCallbackRequest, StatusCallbackResponse, TwilioSignatureValidator } from './http/twilio-status-callback.js';
export { expressTwilioStatusCallback } from './http/express.js';
export type { ExpressLikeRequest, ExpressLikeResponse, ExpressTwilioStatusCallbackOptions } from './http/express.js';
export type { AlertSender } from './alert-sender.js';
export { initSentryFromEnv, scrubSentryEvent, scrubBreadcrumb } from './reporting/sentry-init.js';
export type { InitSentryOptions, SentryInitResult, SentryInitLike, SentryEventLike } from './reporting/sentry-init.js';
export { reportError } from './reporting/report-error.js';
export type { ReportErrorOptions, SentryCaptureLike } from './reporting/report-error.js';
export { ErrorRateCounter } from './reporting/error-rate-counter.js';
export type { ErrorRateCounterOptions } from './reporting/error-rate-counter.js';
export { installProcessHandlers } from './reporting/process-handlers.js';
export type { ProcessHandlerOptions, ProcessEventsLike, SentryCrashLike } from './reporting/process-handlers.js';
export { FailureTracker } from './detectors/failure-tracker.js';
export type { FailureTrackerOptions, FailureRule, FailureState } from './detectors/failure-tracker.js';
export { StuckStateDetector, humanDuration } from './detectors/stuck-state-detector.js';
export type { StuckStateDetectorOptions, TrackedEntity, StuckEntity, StuckCheckReport, TimeLike } from './detectors/stuck-state-detector.js';
export { RuntimeMonitor } from './detectors/runtime-monitor.js';
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
} from './detectors/runtime-monitor.js';
export { createRedisMonitorLock, createPostgresMonitorLock } from './detectors/monitor-lock.js';
export type { MonitorLock, RedisMonitorLockOptions, PostgresMonitorLockOptions, PgSessionClient } from './detectors/monitor-lock.js';
export { createAlertServiceFromEnv, deprecatedEnvAliases } from './from-env.js';
export type { AlertsFromEnvOptions } from './from-env.js';
export {
  configureAlerts,
  getDefaultAlertService,
  sendCriticalAlert,
  resolveAlert,
  silenceAlerts,
  getAlertSystemStatus,
  getAlertStats,
} from './default-service.js';
export { alertingChannels } from './telemetry.js';
export { createSlackAckHandler } from './http/slack-ack.js';
export type { SlackAckHandlerOptions, SlackActionRequest, SlackActionResponse } from './http/slack-ack.js';
export { defaultInhibitRule } from './inhibition/inhibit-rules.js';
export type { InhibitRule, AlertMatcher, InhibitLabel } from './inhibition/inhibit-rules.js';
