// OpenTelemetry for the reference app: OTLP over HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or
// the per-signal OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / _METRICS_ENDPOINT) is set, nothing
// otherwise. The @hardening packages need no wiring: they use the global providers this
// registers (docs/telemetry.md).
import { metrics } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

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
 * @example
 * ```ts
 * const telemetry = startTelemetry(process.env);
 * process.on('SIGTERM', () => void telemetry.shutdown());
 * ```
 */
export function startTelemetry(env: NodeJS.ProcessEnv): AppTelemetry {
  const any = env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined && env.OTEL_EXPORTER_OTLP_ENDPOINT !== '';
  const tracing = (any || (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? '') !== '') && env.OTEL_TRACES_EXPORTER !== 'none';
  const withMetrics = (any || (env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ?? '') !== '') && env.OTEL_METRICS_EXPORTER !== 'none';
  if (!tracing && !withMetrics) return { tracing: false, metrics: false, shutdown: async () => {} };
  const resource = defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? 'hardening-example-app' }));
  // Per the OTLP exporter spec: a signal's own endpoint as is, else the base plus /v1/<signal>.
  const urlFor = (signal: 'traces' | 'metrics') =>
    env[`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`] || `${(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '').replace(/\/$/, '')}/v1/${signal}`;
  const stops: Array<() => Promise<void>> = [];
  if (tracing) {
    const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: urlFor('traces') }))] });
    // Global tracer provider, AsyncLocalStorage context, W3C traceparent propagation.
    provider.register();
    stops.push(() => provider.shutdown());
  }
  if (withMetrics) {
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
