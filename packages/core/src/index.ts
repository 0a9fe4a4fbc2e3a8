export { safeCall } from './safe-call.js';
export { createSafeCall } from './safe-call/create-safe-call.js';
export type { SafeCall, CreateSafeCallOptions } from './safe-call/create-safe-call.js';
export type {
  SafeCallOptions,
  BackoffOptions,
  BulkheadOptions,
  RetryBudgetOptions,
  AttemptContext,
  SafeCallHooks,
  RetryEvent,
  GiveUpEvent,
  TimeoutEvent,
  CallEvent,
} from './safe-call/options.js';
export type { Work } from './safe-call/timed-attempt.js';
export { classifyError, isCallerError } from './classifiers/classify.js';
export type { FailureKind } from './classifiers/classify.js';
export { classifyTwilioError, twilioErrorCodeOf } from './classifiers/twilio.js';
export type { TwilioErrorClass, TwilioErrorKind, TwilioErrorScope } from './classifiers/twilio.js';
export { classifySmsKeyword } from './deliverability/sms-keywords.js';
export type { SmsKeyword } from './deliverability/sms-keywords.js';
export { advanceMessageStatus, isFinalMessageStatus, isMessageStatus } from './deliverability/message-status.js';
export type { MessageStatus, MessageStatusStep } from './deliverability/message-status.js';
export { isTransientError } from './classifiers/transient.js';
export { isNetworkError } from './classifiers/network.js';
export { isTransientHttpError, isFailedResponse, httpStatusOf, retryAfterMs, parseRetryAfter } from './classifiers/http.js';
export { isTransientPrismaError, isTransientPostgresError, isTransientRedisError } from './classifiers/database.js';
export { HardeningError, isHardeningError, hasErrorCode } from './errors/hardening-error.js';
export type { CoreErrorCode } from './errors/hardening-error.js';
export { TimeoutError, isTimeoutError } from './errors/timeout-error.js';
export { RetriesExhaustedError, isRetriesExhaustedError } from './errors/retries-exhausted-error.js';
export type { GiveUpReason } from './errors/retries-exhausted-error.js';
export { BulkheadFullError, isBulkheadFullError } from './errors/bulkhead-full-error.js';
export { AbortedError, isAbortedError } from './errors/aborted-error.js';
export { FailedResultError, isFailedResultError } from './errors/failed-result-error.js';
export { CircuitBreaker, BreakerRegistry, getDefaultRegistry, CircuitOpenError, isCircuitOpenError } from '@hardening/circuit-breaker';
export type { CircuitBreakerOptions, CircuitBreakerSnapshot, CircuitState, StateChange } from '@hardening/circuit-breaker';
export { consoleLogger, silentLogger } from './logger.js';
export type { Logger } from './logger.js';
export { maskPhoneNumber, scrubText, scrubValue } from './redact.js';
export { definedFields } from './defined-fields.js';
export type { DefinedFields } from './defined-fields.js';
export { systemTimers, resolveTimers } from './timers.js';
export type { Timers } from './timers.js';
export { safeCallChannels, errorType } from './telemetry.js';
export type { CallOutcome } from './telemetry.js';
export { TelemetryScope, WeakCollection, metricNaming, setMetricNaming, breakerChannels } from '@hardening/circuit-breaker';
export type { LiveTelemetry, MetricNaming } from '@hardening/circuit-breaker';
