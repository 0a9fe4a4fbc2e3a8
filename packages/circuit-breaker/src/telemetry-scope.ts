import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';
import { anyProviderRegistered, otelWatch } from './otel-global.js';

/**
 * Metric naming profile: `otel` (the default, `hardening.*` names in OTel's conventions) or
 * `resilience4j` (the names resilience4j's Micrometer binder uses, so dashboards built for
 * it work unchanged). See docs/telemetry.md for both tables.
 */
export type MetricNaming = 'otel' | 'resilience4j';

/** What {@link TelemetryScope.current} hands out while a provider is registered. */
export interface LiveTelemetry<I> {
  /** The scope's tracer, or undefined when no tracer provider is registered. */
  readonly tracer: OtelApi.Tracer | undefined;
  /** The scope's instruments, or undefined when no meter provider is registered. */
  readonly instruments: I | undefined;
  /** The naming profile the instruments were built with. */
  readonly naming: MetricNaming;
  /** The `@opentelemetry/api` module (for `context`, `trace.setSpan`, status codes). */
  readonly api: typeof OtelApi;
}

// The same slot for every copy of every @hardening package (ESM and CJS), like OTel's own globals.
const namingKey = Symbol.for('@hardening/telemetry.naming');

/**
 * Chooses the metric names every @hardening package uses from now on (instruments are
 * rebuilt on their next use). Process-wide, shared by ESM and CJS copies.
 *
 * @param naming - `otel` (default) or `resilience4j`.
 * @throws TypeError for another value.
 * @example
 * ```ts
 * import { setMetricNaming } from '@hardening/circuit-breaker';
 * setMetricNaming('resilience4j'); // resilience4j_circuitbreaker_state, ..._calls_seconds
 * ```
 */
export function setMetricNaming(naming: MetricNaming): void {
  if (naming !== 'otel' && naming !== 'resilience4j') {
    throw new TypeError(`Expected \`naming\` to be 'otel' or 'resilience4j', got ${JSON.stringify(naming)}.`);
  }
  (globalThis as Record<symbol, unknown>)[namingKey] = naming;
}

/**
 * The current metric naming profile.
 *
 * @returns `otel` unless {@link setMetricNaming} chose `resilience4j`.
 * @example
 * ```ts
 * import { metricNaming } from '@hardening/circuit-breaker';
 * console.log(metricNaming()); // 'otel'
 * ```
 */
export function metricNaming(): MetricNaming {
  return ((globalThis as Record<symbol, unknown>)[namingKey] as MetricNaming | undefined) ?? 'otel';
}

// undefined: not tried yet; null: not installed (an optional peer).
let api: typeof OtelApi | null | undefined;
function loadApi(): typeof OtelApi | null {
  if (api === undefined) {
    try {
      // A plain `import` would make the optional peer mandatory: loaded only when present.
      api = createRequire(import.meta.url)('@opentelemetry/api') as typeof OtelApi;
    } catch {
      api = null;
    }
  }
  return api;
}

/**
 * One package's OpenTelemetry instrumentation scope, the way OTel instrumentation libraries
 * work: it uses the global tracer and meter providers (nothing to configure), and costs one
 * boolean read per use while no provider is registered (otel-global.ts says how that stays
 * exact when a provider is registered later). `@opentelemetry/api` is an optional
 * peer: without it the scope stays off.
 *
 * The metrics API has no proxy provider (a meter taken before the SDK registers stays a
 * no-op), so the scope watches the global providers and the naming profile and rebuilds its
 * tracer and instruments when they change.
 *
 * @typeParam I - The package's instruments.
 * @example
 * ```ts
 * import { TelemetryScope } from '@hardening/circuit-breaker';
 * const scope = new TelemetryScope('my-lib', (meter) => ({ calls: meter.createCounter('my_lib.calls') }));
 * scope.current()?.instruments?.calls.add(1);
 * ```
 */
export class TelemetryScope<I> {
  #tracerProvider: unknown = undefined;
  #meterProvider: unknown = undefined;
  #naming: MetricNaming | undefined = undefined;
  #live: LiveTelemetry<I> | undefined = undefined;

  /**
   * @param name - Instrumentation scope name (the package name).
   * @param build - Creates the instruments on a meter, for a naming profile.
   */
  constructor(
    readonly name: string,
    private readonly build: (meter: OtelApi.Meter, naming: MetricNaming) => I,
  ) {}

  /**
   * The tracer and instruments, or undefined when no provider is registered (the fast path:
   * build no attributes, start no span).
   *
   * @returns The live telemetry or undefined.
   */
  current(): LiveTelemetry<I> | undefined {
    // One boolean read while nothing is registered (see otel-global.ts).
    if (!otelWatch.maybe) return undefined;
    return this.#refresh();
  }

  #refresh(): LiveTelemetry<I> | undefined {
    if (!anyProviderRegistered()) return undefined;
    const otel = loadApi();
    if (otel === null) return undefined;
    const tracerProvider = otel.trace.getTracerProvider();
    const delegate = tracerProvider instanceof otel.ProxyTracerProvider ? tracerProvider.getDelegate() : tracerProvider;
    const meterProvider = otel.metrics.getMeterProvider();
    const naming = metricNaming();
    if (delegate === this.#tracerProvider && meterProvider === this.#meterProvider && naming === this.#naming) return this.#live;
    this.#tracerProvider = delegate;
    this.#meterProvider = meterProvider;
    this.#naming = naming;
    const tracer = delegate === noopTracerProvider(otel) ? undefined : delegate.getTracer(this.name);
    const meter = meterProvider.getMeter(this.name);
    const instruments = meter === otel.createNoopMeter() ? undefined : this.build(meter, naming);
    this.#live = tracer === undefined && instruments === undefined ? undefined : { tracer, instruments, naming, api: otel };
    return this.#live;
  }
}

let noopProvider: OtelApi.TracerProvider | undefined;
function noopTracerProvider(otel: typeof OtelApi): OtelApi.TracerProvider {
  // A fresh proxy's delegate is the API's no-op provider singleton.
  noopProvider ??= new otel.ProxyTracerProvider().getDelegate();
  return noopProvider;
}

/**
 * A set of objects held weakly, for observable gauges over live breakers or bulkheads (a
 * gauge must not keep a dropped breaker alive).
 *
 * @example
 * ```ts
 * import { WeakCollection } from '@hardening/circuit-breaker';
 * const live = new WeakCollection<object>();
 * live.add({});
 * for (const item of live) console.log(item);
 * ```
 */
export class WeakCollection<T extends object> implements Iterable<T> {
  #refs = new Set<WeakRef<T>>();

  /** @param item - Held until it is garbage-collected. */
  add(item: T): void {
    this.#refs.add(new WeakRef(item));
  }

  *[Symbol.iterator](): Iterator<T> {
    for (const ref of this.#refs) {
      const item = ref.deref();
      if (item === undefined) this.#refs.delete(ref);
      else yield item;
    }
  }
}
