import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BreakerRegistry } from '@hardening/circuit-breaker';

/** The app's Prometheus metrics, served at /metrics. */
export interface Metrics {
  readonly registry: Registry;
  readonly webhooks: Counter<'provider' | 'outcome'>;
  readonly duplicates: Counter<'provider'>;
  readonly alerts: Counter<'outcome'>;
  readonly failsafeIntakes: Counter<string>;
  /** Texts that reach no business: to a number we do not use, or from a caller of the system number. */
  readonly unroutedTexts: Counter<'route'>;
  readonly outbox: Counter<'outcome'>;
  /** Outbound SMS by final delivery status and Twilio error-code class (`none`, `recipient_terminal`, `sender_systemic`...). */
  readonly smsDeliveries: Counter<'status' | 'error_class'>;
  /** Sends refused before any call to Twilio, by reason (opted_out, suppressed, halted, unreadable). */
  readonly smsRefused: Counter<'reason'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
}

const breakerValue = { closed: 0, 'half-open': 0.5, open: 1, isolated: 1 } as const;

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  readonly breakers: BreakerRegistry;
  readonly queueDepth: () => Promise<number> | number;
  /**
   * Prefix of every app metric name (METRICS_PREFIX): keeps them apart from other apps' in one
   * Prometheus and from the SDK's own OTel metrics (`hardening_circuit_breaker_state`...,
   * docs/telemetry.md). The Node process defaults (`process_*`, `nodejs_*`) keep their standard
   * names, which every Node dashboard queries.
   * @default 'hardening_app_'
   */
  readonly prefix?: string;
}

/** The prefix of the app's metric names when METRICS_PREFIX is not set. */
export const defaultMetricsPrefix = 'hardening_app_';

/**
 * Creates the metrics. Gauges that mirror other state (breakers, queue depth) are read at
 * scrape time, so they never go stale.
 *
 * @param options - The breakers and queue to mirror, and the name prefix.
 * @returns The metrics and their registry.
 * @example
 * ```ts
 * const metrics = createMetrics({ breakers, queueDepth: () => queue.depth(), prefix: 'hardening_app_' });
 * metrics.outbox.inc({ outcome: 'sent' }); // hardening_app_outbox_messages_total{outcome="sent"}
 * ```
 */
export function createMetrics(options: MetricsOptions): Metrics {
  const { prefix = defaultMetricsPrefix } = options;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics: Metrics = {
    registry,
    webhooks: new Counter({
      name: `${prefix}webhook_requests_total`,
      help: 'Webhook requests by provider and outcome.',
      labelNames: ['provider', 'outcome'],
      registers: [registry],
    }),
    duplicates: new Counter({
      name: `${prefix}webhook_duplicates_total`,
      help: 'Duplicate webhook deliveries answered without processing.',
      labelNames: ['provider'],
      registers: [registry],
    }),
    alerts: new Counter({
      name: `${prefix}alerts_total`,
      help: 'Alerts by outcome (delivered, suppressed, silenced, lost...).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    failsafeIntakes: new Counter({
      name: `${prefix}voice_system_failsafe_intake_total`,
      help: 'Calls to a number of no client, answered with the fail-safe SMS.',
      registers: [registry],
    }),
    unroutedTexts: new Counter({
      name: `${prefix}sms_unrouted_total`,
      help: 'Inbound texts that reach no business (unknown_number, system_caller).',
      labelNames: ['route'],
      registers: [registry],
    }),
    outbox: new Counter({ name: `${prefix}outbox_messages_total`, help: 'Outbox sends by outcome.', labelNames: ['outcome'], registers: [registry] }),
    smsDeliveries: new Counter({
      name: `${prefix}sms_deliveries_total`,
      help: 'Outbound SMS reaching a final delivery status, by status and error-code class.',
      labelNames: ['status', 'error_class'],
      registers: [registry],
    }),
    smsRefused: new Counter({
      name: `${prefix}sms_sends_refused_total`,
      help: 'SMS sends refused before calling Twilio, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: `${prefix}http_request_duration_seconds`,
      help: 'HTTP request duration.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
  new Gauge({
    name: `${prefix}circuit_breaker_state`,
    help: 'Breaker state: 0 closed, 0.5 half-open, 1 open or isolated.',
    labelNames: ['name'],
    registers: [registry],
    collect() {
      for (const snapshot of options.breakers.snapshot()) this.set({ name: snapshot.name }, breakerValue[snapshot.state]);
    },
  });
  new Gauge({
    name: `${prefix}queue_depth`,
    help: 'Jobs waiting in the work queue.',
    registers: [registry],
    async collect() {
      this.set(await options.queueDepth());
    },
  });
  return metrics;
}
