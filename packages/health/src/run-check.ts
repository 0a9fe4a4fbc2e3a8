import { TimeoutError, isTimeoutError, scrubText } from '@hardening/core';
import type { CheckObservation, CheckOutcome, HealthCheck } from './health-check.js';
import { isHealthStatus, worstStatus, type HealthStatus } from './health-status.js';
import { observeCheck } from './telemetry.js';
import { systemTimers, type Timers } from '@hardening/core';

/** One finished run of a check (internal: the monitor turns it into a `CheckResult`). */
export interface CheckRun {
  readonly status: HealthStatus;
  readonly observations: readonly CheckObservation[];
  readonly durationMs: number;
  readonly timedOut: boolean;
  /** When the run finished, from the monitor's clock (epoch ms). */
  readonly completedAt: number;
}

const TIMED_OUT = Symbol('timed out');

/**
 * Runs a check under its timeout. Never throws and never waits longer than `timeoutMs`
 * (plus a tick): a check that hangs forever is abandoned and reported as failed, and its
 * signal is aborted so the I/O under it can stop.
 */
export function runCheck(check: HealthCheck, timeoutMs: number, now: () => number, timers: Timers = systemTimers): Promise<CheckRun> {
  return observeCheck(check.name, () => runUnobserved(check, timeoutMs, now, timers));
}

async function runUnobserved(check: HealthCheck, timeoutMs: number, now: () => number, timers: Timers): Promise<CheckRun> {
  const controller = new AbortController();
  const started = performance.now();
  let timer: unknown;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = timers.setTimeout(() => {
      controller.abort(new TimeoutError(`health check ${check.name}`, timeoutMs));
      resolve(TIMED_OUT);
    }, timeoutMs);
  });
  // Promise.resolve().then(...) turns a synchronous throw into a rejection.
  const work = Promise.resolve().then(() => check.check({ signal: controller.signal }));
  // A check that rejects after its timeout must not become an unhandled rejection.
  work.catch(() => {});
  let observations: readonly CheckObservation[];
  let timedOut = false;
  try {
    const outcome = await Promise.race([work, deadline]);
    if (outcome === TIMED_OUT) {
      timedOut = true;
      observations = [{ status: 'fail', output: `timed out after ${timeoutMs} ms` }];
    } else {
      observations = normalizeOutcome(outcome);
    }
  } catch (error) {
    timedOut = isTimeoutError(error) && controller.signal.aborted;
    observations = [{ status: 'fail', output: timedOut ? `timed out after ${timeoutMs} ms` : describeError(error) }];
  } finally {
    if (timer !== undefined) timers.clearTimeout(timer);
  }
  return {
    status: worstStatus(observations.map((o) => o.status)),
    observations,
    durationMs: Math.round((performance.now() - started) * 100) / 100,
    timedOut,
    completedAt: now(),
  };
}

/** Turns whatever a check returned into observations, scrubbing their output. */
export function normalizeOutcome(outcome: CheckOutcome): readonly CheckObservation[] {
  if (outcome === undefined || outcome === true) return [{ status: 'pass' }];
  if (outcome === false) return [{ status: 'fail' }];
  if (isHealthStatus(outcome)) return [{ status: outcome }];
  const list: readonly unknown[] = Array.isArray(outcome) ? outcome : [outcome];
  if (list.length === 0) return [{ status: 'pass' }];
  return list.map((item): CheckObservation => {
    if (typeof item !== 'object' || item === null || !isHealthStatus((item as CheckObservation).status)) {
      return { status: 'fail', output: 'check returned an invalid outcome (expected a status or { status, ... })' };
    }
    const observation = item as CheckObservation;
    return observation.output === undefined ? observation : { ...observation, output: scrubText(String(observation.output)) };
  });
}

/** An error's message, scrubbed; AggregateErrors (a refused dual-stack connect) list their parts. */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0 && error.message === '') {
    return scrubText(error.errors.map((e) => describeError(e)).join('; '));
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const message = error.message !== '' ? error.message : typeof code === 'string' ? code : error.name;
    return scrubText(message);
  }
  return scrubText(String(error));
}
