import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { DataPoint, Histogram, MetricData } from '@opentelemetry/sdk-metrics';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** A metric reader that collects on demand (no timer). */
class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** The real OTel SDK registered globally, with in-memory span and metric export. */
export interface TestOtel {
  /** Finished spans so far. */
  spans(): ReadableSpan[];
  /** Collects metrics now and returns the one named `name`, or undefined. */
  metric(name: string): Promise<MetricData | undefined>;
  /** Every metric name collected now. */
  metricNames(): Promise<string[]>;
  /** Data points of `name` whose attributes include `attributes`. */
  points(name: string, attributes?: Record<string, unknown>): Promise<Array<DataPoint<number | Histogram>>>;
  /** Forgets finished spans. */
  resetSpans(): void;
  /** Unregisters everything and shuts the providers down. */
  uninstall(): Promise<void>;
}

/**
 * Registers the real OpenTelemetry SDK globally (tracer provider with an
 * InMemorySpanExporter, meter provider with an on-demand reader, AsyncLocalStorage context
 * manager) as an application would. Pass `{ traces: false }` or `{ metrics: false }` to
 * leave one out.
 */
export function installOtel(options: { traces?: boolean; metrics?: boolean } = {}): TestOtel {
  const { traces: withTraces = true, metrics: withMetrics = true } = options;
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new OnDemandReader({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  if (withTraces) trace.setGlobalTracerProvider(tracerProvider);
  if (withMetrics) metrics.setGlobalMeterProvider(meterProvider);
  const collect = async (): Promise<MetricData[]> => {
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw new Error(`metric collection failed: ${errors.map(String).join('; ')}`);
    return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
  };
  return {
    spans: () => exporter.getFinishedSpans(),
    metric: async (name) => (await collect()).find((m) => m.descriptor.name === name),
    metricNames: async () => (await collect()).map((m) => m.descriptor.name),
    points: async (name, attributes = {}) => {
      const found = (await collect()).filter((m) => m.descriptor.name === name);
      return found
        .flatMap((m) => m.dataPoints as Array<DataPoint<number | Histogram>>)
        .filter((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v));
    },
    resetSpans: () => exporter.reset(),
    uninstall: async () => {
      trace.disable();
      metrics.disable();
      context.disable();
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}
