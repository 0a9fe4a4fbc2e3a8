import { channel } from 'node:diagnostics_channel';
import type { Counter, Meter } from '@opentelemetry/api';
import { TelemetryScope, errorType } from '@hardening/core';
import { isIdempotencyInProgressError } from './errors/idempotency-in-progress-error.js';
import { isIdempotencyStoreError } from './errors/idempotency-store-error.js';
import { isIdempotencyPayloadMismatchError } from './errors/payload-mismatch-error.js';

/** A guard run's outcome, as the `hardening.idempotency.outcome` attribute. */
export type GuardOutcome = 'executed' | 'replayed' | 'in_progress' | 'mismatch' | 'store_error' | 'failed';

/**
 * diagnostics_channel names this package publishes on (see docs/telemetry.md).
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * import { idempotencyChannels } from '@hardening/idempotency';
 * subscribe(idempotencyChannels.outcome, ({ namespace, outcome }) => console.log(namespace, outcome));
 * ```
 */
export const idempotencyChannels = Object.freeze({
  /** `{ namespace, outcome, errorType? }` after every guard run (the key is not published). */
  outcome: 'hardening:idempotency:outcome',
});

const outcomeChannel = channel(idempotencyChannels.outcome);

interface Instruments {
  readonly outcomes: Counter;
}

const scope = new TelemetryScope(
  '@hardening/idempotency',
  (meter: Meter) =>
    ({
      // The same name in both naming profiles: resilience4j has no idempotency module.
      outcomes: meter.createCounter('hardening.idempotency.outcomes', { description: 'Idempotency guard runs by outcome.' }),
    }) satisfies Instruments,
);

function outcomeOfError(error: unknown): GuardOutcome {
  if (isIdempotencyInProgressError(error)) return 'in_progress';
  if (isIdempotencyPayloadMismatchError(error)) return 'mismatch';
  if (isIdempotencyStoreError(error)) return 'store_error';
  return 'failed';
}

/**
 * Whether guard runs are observed now (an OTel provider is registered, or the outcome
 * channel has a subscriber): the guard then takes the path that knows each run's outcome.
 *
 * @returns `true` when {@link observeGuard} would record anything.
 */
export function isGuardObserved(): boolean {
  return scope.current() !== undefined || outcomeChannel.hasSubscribers;
}

/**
 * Runs one guard run under a span `idempotency <namespace>` (the work runs inside it) with
 * its outcome as an attribute, counts the outcome, and publishes it. With no provider and
 * no subscriber it only runs `run`.
 *
 * @param namespace - The guard's namespace (low cardinality; the key is never recorded).
 * @param run - The guard run.
 * @returns What `run` returns.
 */
export function observeGuard<R extends { readonly status: 'executed' | 'replayed' }>(namespace: string, run: () => Promise<R>): Promise<R> {
  const live = scope.current();
  if (live === undefined && !outcomeChannel.hasSubscribers) return run();
  const span = live?.tracer?.startSpan(`idempotency ${namespace || 'guard'}`, { attributes: { 'hardening.idempotency.namespace': namespace } });
  const finish = (outcome: GuardOutcome, error?: unknown) => {
    const type = error === undefined ? undefined : errorType(error);
    if (span !== undefined) {
      span.setAttribute('hardening.idempotency.outcome', outcome);
      if (type !== undefined) {
        span.setAttribute('error.type', type);
        // A duplicate refused or a mismatch is the guard doing its job, not an error of it.
        if (outcome === 'store_error' || outcome === 'failed') span.setStatus({ code: 2, message: error instanceof Error ? error.name : 'error' });
      }
      span.end();
    }
    live?.instruments?.outcomes.add(1, { 'hardening.idempotency.namespace': namespace, 'hardening.idempotency.outcome': outcome });
    if (outcomeChannel.hasSubscribers) outcomeChannel.publish(Object.freeze({ namespace, outcome, errorType: type }));
  };
  const { context, trace } = live?.api ?? {};
  const promise = span !== undefined && context !== undefined && trace !== undefined ? context.with(trace.setSpan(context.active(), span), run) : run();
  return promise.then(
    (result) => {
      finish(result.status);
      return result;
    },
    (error: unknown) => {
      finish(outcomeOfError(error), error);
      throw error;
    },
  );
}
