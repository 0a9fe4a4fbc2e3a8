// @hardening/alerting/reporting: Sentry initialisation and scrubbing, error reporting, error
// rates and process crash handlers. Also re-exported by the package root (kept for existing imports).
export { initSentryFromEnv, scrubSentryEvent, scrubBreadcrumb } from './sentry-init.js';
export type { InitSentryOptions, SentryInitResult, SentryInitLike, SentryEventLike } from './sentry-init.js';
export { reportError } from './report-error.js';
export type { ReportErrorOptions, SentryCaptureLike } from './report-error.js';
export { ErrorRateCounter } from './error-rate-counter.js';
export type { ErrorRateCounterOptions } from './error-rate-counter.js';
export { installProcessHandlers } from './process-handlers.js';
export type { ProcessHandlerOptions, ProcessEventsLike, SentryCrashLike } from './process-handlers.js';
