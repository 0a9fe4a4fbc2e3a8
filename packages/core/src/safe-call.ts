import type { SafeCall } from './safe-call/create-safe-call.js';
import { createSafeCall } from './safe-call/create-safe-call.js';

/**
 * The default `safeCall`: runs `fn(signal)` under a 30 s timeout per attempt, up to 3
 * attempts for transient failures (waits of 1 s then 2 s, `Retry-After` honoured), a retry
 * budget, and the circuit breaker registered under `name` in the process-wide registry
 * (opens after 3 consecutive failures, for 30 s). Caller errors (a 400, Twilio 21211, a
 * validation error) are neither retried nor counted by the breaker (see `classifyError`). See {@link createSafeCall} for an
 * instance with its own defaults, logger and hooks.
 *
 * @example
 * ```ts
 * import { safeCall, isCircuitOpenError, isRetriesExhaustedError } from '@hardening/core';
 *
 * try {
 *   const res = await safeCall('google_calendar_events', (signal) => fetch('http://127.0.0.1:9/calendar', { signal }));
 *   console.log(res.status);
 * } catch (error) {
 *   if (isCircuitOpenError(error)) console.log('calendar is down; try again after', error.retryAt);
 *   else if (isRetriesExhaustedError(error)) console.log('gave up after', error.attempts, 'attempts:', error.cause);
 *   else throw error;
 * }
 * ```
 */
export const safeCall: SafeCall = createSafeCall();
