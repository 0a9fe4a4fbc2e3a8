import { channel } from 'node:diagnostics_channel';
import type { Attributes, Counter, Histogram, Meter, Span } from '@opentelemetry/api';
import type { LiveTelemetry, MetricNaming } from '@hardening/circuit-breaker';
import { TelemetryScope, WeakCollection } from '@hardening/circuit-breaker';
import { field } from './classifiers/error-fields.js';
import { httpStatusOf } from './classifiers/http.js';
import { isRetriesExhaustedError } from './errors/retries-exhausted-error.js';
import { isTimeoutError } from './errors/timeout-error.js';
import type { GiveUpEvent, SafeCallHooks, SafeCallOptions } from './safe-call/options.js';

/**
 * diagnostics_channel names `safeCall` publishes on (see docs/telemetry.md). Messages are
 * frozen plain objects; `error` is the error object itself (subscribers must not log it
 * unredacted).
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * import { safeCallChannels } from '@hardening/core';
 * subscribe(safeCallChannels.end, (message) => console.log(message));
 * ```
 */
export const safeCallChannels = Object.freeze({
  /** `{ name }` when a call starts (before any bulkhead queue). */
  start: 'hardening:safe-call:start',
  /** `{ name, attempt, outcome: 'success' | 'failure' | 'timeout', delayMs?, error? }` per attempt. */
  attempt: 'hardening:safe-call:attempt',
  /** `{ name, reason: 'circuit-open' | 'bulkhead-full' | 'budget', state? }` when a call or retry is refused. */
  refused: 'hardening:safe-call:refused',
  /** `{ name, outcome, attempts, durationMs, reason?, errorType? }` when the call settles. */
  end: 'hardening:safe-call:end',
});

const startChannel = channel(safeCallChannels.start);
const attemptChannel = channel(safeCallChannels.attempt);
const refusedChannel = channel(safeCallChannels.refused);
const endChannel = channel(safeCallChannels.end);

/** How a call ended, as the `hardening.outcome` attribute. */
export type CallOutcome = 'success' | 'failure' | 'refused' | 'fallback';

/** What the bulkhead gauges read. */
interface ObservedBulkhead {
  readonly name: string;
  readonly maxConcurrent: number;
  readonly load: { active: number; queued: number };
}

interface Instruments {
  readonly naming: MetricNaming;
  /** otel: hardening.safe_call.duration; resilience4j: resilience4j.retry.calls is a counter instead. */
  readonly duration: Histogram | undefined;
  readonly retryCalls: Counter | undefined;
  readonly timeLimiterCalls: Counter | undefined;
}

const bulkheads = new WeakCollection<ObservedBulkhead>();

function build(meter: Meter, naming: MetricNaming): Instruments {
  const r4j = naming === 'resilience4j';
  if (r4j) {
    const available = meter.createObservableGauge('resilience4j.bulkhead.available.concurrent.calls', { description: 'Free bulkhead slots.' });
    const max = meter.createObservableGauge('resilience4j.bulkhead.max.allowed.concurrent.calls', { description: 'Bulkhead size.' });
    meter.addBatchObservableCallback(
      (result) => {
        for (const [name, load] of loads()) {
          result.observe(available, load.max - load.active, { name });
          result.observe(max, load.max, { name });
        }
      },
      [available, max],
    );
    return {
      naming,
      duration: undefined,
      retryCalls: meter.createCounter('resilience4j.retry.calls', { description: 'Calls by retry outcome.' }),
      timeLimiterCalls: meter.createCounter('resilience4j.timelimiter.calls', { description: 'Attempts by time-limit outcome.' }),
    };
  }
  const active = meter.createObservableUpDownCounter('hardening.bulkhead.active', { unit: '{call}', description: 'Calls running inside a bulkhead.' });
  const queued = meter.createObservableUpDownCounter('hardening.bulkhead.queued', { unit: '{call}', description: 'Calls waiting for a bulkhead slot.' });
  const limit = meter.createObservableUpDownCounter('hardening.bulkhead.limit', { unit: '{call}', description: 'Bulkhead size (maxConcurrent).' });
  meter.addBatchObservableCallback(
    (result) => {
      for (const [name, load] of loads()) {
        const attributes = { 'hardening.operation': name };
        result.observe(active, load.active, attributes);
        result.observe(queued, load.queued, attributes);
        result.observe(limit, load.max, attributes);
      }
    },
    [active, queued, limit],
  );
  return {
    naming,
    duration: meter.createHistogram('hardening.safe_call.duration', {
      unit: 's',
      description: 'Duration of safeCall operations (all attempts and waits), by operation and outcome.',
    }),
    retryCalls: undefined,
    timeLimiterCalls: undefined,
  };
}

/** Bulkhead load summed per operation name (several safeCall instances may share a name). */
function loads(): Map<string, { active: number; queued: number; max: number }> {
  const byName = new Map<string, { active: number; queued: number; max: number }>();
  for (const bulkhead of bulkheads) {
    const { active, queued } = bulkhead.load;
    const sum = byName.get(bulkhead.name) ?? { active: 0, queued: 0, max: 0 };
    sum.active += active;
    sum.queued += queued;
    sum.max += bulkhead.maxConcurrent;
    byName.set(bulkhead.name, sum);
  }
  return byName;
}

const scope = new TelemetryScope('@hardening/core', build);

/**
 * The OTel `error.type` of an error: `timeout`, the HTTP status, an error `code`
 * (`ECONNRESET`, `CIRCUIT_OPEN`), the class name, or `_OTHER`. What a `RetriesExhaustedError`
 * wraps counts, not the wrapper.
 *
 * @param error - Anything thrown.
 * @returns A low-cardinality string.
 */
export function errorType(error: unknown): string {
  const inner = isRetriesExhaustedError(error) ? error.cause : error;
  if (isTimeoutError(inner)) return 'timeout';
  const status = httpStatusOf(inner);
  if (status !== undefined) return String(status);
  const code = field(inner, 'code');
  if (typeof code === 'string' && code.length > 0 && code.length <= 64) return code;
  if (inner instanceof Error) return inner.constructor.name;
  return '_OTHER';
}

const refusals = new Set<GiveUpEvent['reason']>(['circuit-open', 'bulkhead-full', 'budget']);

/**
 * One safeCall operation under observation: its span (when a tracer provider is
 * registered), its attempt events, its duration metric and channel messages. Created only
 * while a provider or a channel subscriber exists.
 */
class CallObserver {
  readonly span: Span | undefined;
  private readonly started = performance.now();
  private timedOutAttempt = 0;
  private reported = 0;
  private retries = 0;
  private lastRetryError: unknown = undefined;
  private gaveUp: GiveUpEvent | undefined = undefined;

  constructor(
    private readonly live: LiveTelemetry<Instruments> | undefined,
    private readonly name: string,
  ) {
    this.span = live?.tracer?.startSpan(`safeCall ${name}`, { attributes: { 'hardening.operation': name } });
    if (startChannel.hasSubscribers) startChannel.publish(Object.freeze({ name }));
  }

  /** Per-call hooks that record on this observer, then run the caller's own. */
  hooks(own: SafeCallOptions['hooks']): NonNullable<SafeCallOptions['hooks']> {
    return {
      onTimeout: (event) => {
        this.timedOutAttempt = event.attempt;
        own?.onTimeout?.(event);
      },
      onRetry: (event) => {
        this.retries++;
        this.lastRetryError = event.error;
        this.attempt(event.attempt, event.error, event.delayMs);
        own?.onRetry?.(event);
      },
      onSuccess: (event) => {
        this.attempt(event.attempts, undefined, undefined, event.durationMs);
        own?.onSuccess?.(event);
      },
      onGiveUp: (event) => {
        this.gaveUp = event;
        // The last attempt failed and nothing announced it (no retry followed).
        if (event.attempts > this.reported) this.attempt(event.attempts, isRetriesExhaustedError(event.error) ? event.error.cause : event.error, undefined);
        if (refusals.has(event.reason)) this.refused(event);
        own?.onGiveUp?.(event);
      },
      ...(own?.onSlowCall === undefined ? {} : { onSlowCall: own.onSlowCall }),
    } satisfies SafeCallHooks;
  }

  private attempt(n: number, error: unknown, delayMs: number | undefined, durationMs?: number): void {
    this.reported = n;
    const outcome = error === undefined ? 'success' : this.timedOutAttempt === n ? 'timeout' : 'failure';
    if (this.span?.isRecording()) {
      const attributes: Attributes = { 'hardening.attempt': n, 'hardening.outcome': outcome };
      if (error !== undefined) attributes['error.type'] = errorType(error);
      if (delayMs !== undefined) attributes['hardening.retry.delay'] = delayMs / 1000;
      if (durationMs !== undefined) attributes['hardening.attempt.duration'] = durationMs / 1000;
      this.span.addEvent('attempt', attributes);
    }
    const timeLimiter = this.live?.instruments?.timeLimiterCalls;
    if (timeLimiter !== undefined)
      timeLimiter.add(1, { name: this.name, kind: outcome === 'success' ? 'successful' : outcome === 'timeout' ? 'timeout' : 'failed' });
    if (attemptChannel.hasSubscribers) attemptChannel.publish(Object.freeze({ name: this.name, attempt: n, outcome, delayMs, error }));
  }

  private refused(event: GiveUpEvent): void {
    const state = field(event.error, 'state');
    if (this.span?.isRecording()) {
      const attributes: Attributes = { 'hardening.refusal.reason': event.reason, 'hardening.attempts': event.attempts };
      if (typeof state === 'string') attributes['hardening.circuit_breaker.state'] = state;
      this.span.addEvent('refused', attributes);
    }
    if (refusedChannel.hasSubscribers) refusedChannel.publish(Object.freeze({ name: this.name, reason: event.reason, state }));
  }

  /** The call settled: `failed` with `error`, or not. */
  end(failed: boolean, error: unknown): void {
    const durationMs = performance.now() - this.started;
    const gaveUp = this.gaveUp;
    const refusedAtOnce = gaveUp !== undefined && gaveUp.attempts === 0 && (gaveUp.reason === 'circuit-open' || gaveUp.reason === 'bulkhead-full');
    const outcome: CallOutcome = gaveUp === undefined ? 'success' : !failed ? 'fallback' : refusedAtOnce ? 'refused' : 'failure';
    const finalError = failed ? error : gaveUp?.error;
    const type = outcome === 'success' ? undefined : errorType(finalError);
    const attempts = gaveUp?.attempts ?? this.reported;
    const span = this.span;
    if (span !== undefined) {
      if (span.isRecording()) {
        const attributes: Attributes = { 'hardening.outcome': outcome, 'hardening.attempts': attempts };
        if (type !== undefined) attributes['error.type'] = type;
        if (gaveUp !== undefined) attributes['hardening.give_up.reason'] = this.timedOutAttempt === attempts && attempts > 0 ? 'timeout' : gaveUp.reason;
        // OTel's retry count for HTTP work: set when the retried failures were HTTP responses.
        if (this.retries > 0 && httpStatusOf(this.lastRetryError) !== undefined) attributes['http.request.resend_count'] = this.retries;
        span.setAttributes(attributes);
        if (outcome !== 'success') span.setStatus({ code: 2 /* SpanStatusCode.ERROR */, message: describe(finalError) });
      }
      span.end();
    }
    const instruments = this.live?.instruments;
    if (instruments?.duration !== undefined) {
      const attributes: Attributes = { 'hardening.operation': this.name, 'hardening.outcome': outcome };
      if (type !== undefined) attributes['error.type'] = type;
      instruments.duration.record(durationMs / 1000, attributes);
    } else if (instruments?.retryCalls !== undefined && outcome !== 'refused') {
      const kind = `${outcome === 'success' ? 'successful' : 'failed'}_${this.retries > 0 ? 'with' : 'without'}_retry`;
      instruments.retryCalls.add(1, { name: this.name, kind });
    }
    if (endChannel.hasSubscribers) {
      endChannel.publish(Object.freeze({ name: this.name, outcome, attempts, durationMs, reason: gaveUp?.reason, errorType: type }));
    }
  }
}

function describe(error: unknown): string {
  // Error messages of our own errors carry no secrets (see redact.ts); others are cut short.
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 200 ? `${message.slice(0, 200)}...` : message;
}

/**
 * safeCall's telemetry, one call per event from the engine. While no provider and no
 * channel subscriber exists, {@link safeCallTelemetry.listening} costs one boolean read
 * (see circuit-breaker's otel-global.ts) and four `hasSubscribers` reads, and nothing is
 * allocated.
 */
export const safeCallTelemetry = {
  /** Whether a provider or a channel subscriber exists (checked before anything is allocated). */
  listening(): boolean {
    return (
      scope.current() !== undefined ||
      startChannel.hasSubscribers ||
      attemptChannel.hasSubscribers ||
      refusedChannel.hasSubscribers ||
      endChannel.hasSubscribers
    );
  },

  /**
   * Runs one call under observation (after {@link safeCallTelemetry.listening} said yes).
   *
   * @returns The traced promise.
   */
  observe<T>(name: string, options: SafeCallOptions<T> | undefined, run: (options: SafeCallOptions<T>) => Promise<T>): Promise<T> {
    const live = scope.current();
    const observer = new CallObserver(live, name);
    const traced = { ...options, hooks: observer.hooks(options?.hooks) } as SafeCallOptions<T>;
    let promise: Promise<T>;
    if (observer.span !== undefined && live !== undefined) {
      const { context, trace } = live.api;
      // The work runs in the span's context, so spans it starts (HTTP, SQL) are its children.
      promise = context.with(trace.setSpan(context.active(), observer.span), run, undefined, traced);
    } else {
      promise = run(traced);
    }
    return promise.then(
      (value) => {
        observer.end(false, undefined);
        return value;
      },
      (error: unknown) => {
        observer.end(true, error);
        throw error;
      },
    );
  },

  /** A bulkhead was created (for the occupancy gauges; held weakly). */
  trackBulkhead<B extends ObservedBulkhead>(bulkhead: B): B {
    bulkheads.add(bulkhead);
    return bulkhead;
  },
};
