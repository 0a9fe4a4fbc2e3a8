// OpenTelemetry for the reference app: OTLP over HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or
// the per-signal OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / _METRICS_ENDPOINT) is set, nothing
// otherwise. The @hardening packages need no wiring: they use the global providers this
// registers (docs/telemetry.md). The SDK and the exporters (~1-2 s of module loading) are
// imported only when an endpoint is set.
import { metrics } from '@opentelemetry/api';
import { loadOptionalSdk } from './providers/optional-sdk.js';

/** What {@link startTelemetry} started; `shutdown` flushes and stops both exporters. */
export interface AppTelemetry {
  readonly tracing: boolean;
  readonly metrics: boolean;
  shutdown(): Promise<void>;
}

/**
 * Registers the OTel SDK globally with OTLP/HTTP exporters when the standard variables ask
 * for it. The endpoints come from `env`; the exporters read the other standard variables
 * (headers, timeout, compression) from process.env; the resource takes OTEL_SERVICE_NAME and
 * OTEL_RESOURCE_ATTRIBUTES (from process.env, as OTel's env detector reads them).
 *
 * @param env - The environment (process.env).
 * @returns What was started (nothing when no endpoint is set).
 * @throws {SdkLoadError} When an endpoint is set and an OTel SDK package cannot be loaded.
 * @example
 * ```ts
 * const telemetry = await startTelemetry(process.env);
 * process.on('SIGTERM', () => void telemetry.shutdown());
 * ```
 */
export async function startTelemetry(env: NodeJS.ProcessEnv): Promise<AppTelemetry> {
  const any = env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined && env.OTEL_EXPORTER_OTLP_ENDPOINT !== '';
  const tracing = (any || (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? '') !== '') && env.OTEL_TRACES_EXPORTER !== 'none';
  const withMetrics = (any || (env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ?? '') !== '') && env.OTEL_METRICS_EXPORTER !== 'none';
  if (!tracing && !withMetrics) return { tracing: false, metrics: false, shutdown: async () => {} };
  const purpose = 'OTEL_EXPORTER_OTLP_ENDPOINT (OTLP export)';
  const [{ defaultResource, detectResources, envDetector, resourceFromAttributes }, traces, metricSdk] = await Promise.all([
    loadOptionalSdk('@opentelemetry/resources', purpose, () => import('@opentelemetry/resources')),
    tracing
      ? Promise.all([
          loadOptionalSdk('@opentelemetry/sdk-trace-node', purpose, () => import('@opentelemetry/sdk-trace-node')),
          loadOptionalSdk('@opentelemetry/exporter-trace-otlp-http', purpose, () => import('@opentelemetry/exporter-trace-otlp-http')),
        ])
      : undefined,
    withMetrics
      ? Promise.all([
          loadOptionalSdk('@opentelemetry/sdk-metrics', purpose, () => import('@opentelemetry/sdk-metrics')),
          loadOptionalSdk('@opentelemetry/exporter-metrics-otlp-http', purpose, () => import('@opentelemetry/exporter-metrics-otlp-http')),
        ])
      : undefined,
  ]);
  const resource = defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? 'hardening-example-app' }));
  // Per the OTLP exporter spec: a signal's own endpoint as is, else the base plus /v1/<signal>.
  const urlFor = (signal: 'traces' | 'metrics') =>
    env[`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`] || `${(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '').replace(/\/$/, '')}/v1/${signal}`;
  const stops: Array<() => Promise<void>> = [];
  if (traces !== undefined) {
    const [{ BatchSpanProcessor, NodeTracerProvider }, { OTLPTraceExporter }] = traces;
    const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: urlFor('traces') }))] });
    // Global tracer provider, AsyncLocalStorage context, W3C traceparent propagation.
    provider.register();
    stops.push(() => provider.shutdown());
  }
  if (metricSdk !== undefined) {
    const [{ MeterProvider, PeriodicExportingMetricReader }, { OTLPMetricExporter }] = metricSdk;
    const exportIntervalMillis = Number(env.OTEL_METRIC_EXPORT_INTERVAL ?? 60_000);
    const provider = new MeterProvider({
      resource,
      readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: urlFor('metrics') }), exportIntervalMillis })],
    });
    metrics.setGlobalMeterProvider(provider);
    stops.push(() => provider.shutdown());
  }
  return {
    tracing,
    metrics: withMetrics,
    shutdown: async () => {
      await Promise.allSettled(stops.map((stop) => stop()));
    },
  };
}
