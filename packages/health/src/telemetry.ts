import { channel } from 'node:diagnostics_channel';
import type { Histogram, Meter } from '@opentelemetry/api';
import { TelemetryScope } from '@hardening/core';
import type { CheckRun } from './run-check.js';

/**
 * diagnostics_channel names this package publishes on (see docs/telemetry.md).
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * import { healthChannels } from '@hardening/health';
 * subscribe(healthChannels.check, ({ name, status }) => console.log(name, status));
 * ```
 */
export const healthChannels = Object.freeze({
  /** `{ name, status, durationMs, timedOut }` after every check run. */
  check: 'hardening:health:check',
});

const checkChannel = channel(healthChannels.check);

interface Instruments {
  readonly duration: Histogram;
}

const scope = new TelemetryScope(
  '@hardening/health',
  (meter: Meter) =>
    ({
      duration: meter.createHistogram('hardening.health.check.duration', { unit: 's', description: 'Health check runs by check and result.' }),
    }) satisfies Instruments,
);

/**
 * Runs one health check under a span `health_check <name>` (the check runs inside it): its
 * result and whether it timed out as attributes, status ERROR when it failed, a duration
 * histogram point, and a channel message.
 *
 * @param name - The check's name.
 * @param run - The check run (never rejects).
 * @returns The run.
 */
export async function observeCheck(name: string, run: () => Promise<CheckRun>): Promise<CheckRun> {
  const live = scope.current();
  if (live === undefined && !checkChannel.hasSubscribers) return run();
  const span = live?.tracer?.startSpan(`health_check ${name}`, { attributes: { 'hardening.health.check': name } });
  const { context, trace } = live?.api ?? {};
  const result =
    span !== undefined && context !== undefined && trace !== undefined ? await context.with(trace.setSpan(context.active(), span), run) : await run();
  if (span !== undefined) {
    span.setAttributes({ 'hardening.health.status': result.status, 'hardening.health.timed_out': result.timedOut });
    if (result.status === 'fail') span.setStatus({ code: 2, message: result.timedOut ? 'timed out' : 'check failed' });
    if (result.timedOut) span.setAttribute('error.type', 'timeout');
    span.end();
  }
  live?.instruments?.duration.record(result.durationMs / 1000, { 'hardening.health.check': name, 'hardening.health.status': result.status });
  if (checkChannel.hasSubscribers)
    checkChannel.publish(Object.freeze({ name, status: result.status, durationMs: result.durationMs, timedOut: result.timedOut }));
  return result;
}
