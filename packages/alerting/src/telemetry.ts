import { channel } from 'node:diagnostics_channel';
import type { Attributes, Counter, Meter } from '@opentelemetry/api';
import { TelemetryScope, WeakCollection, errorType } from '@hardening/core';
import type { AlertMessage } from './alert.js';
import type { AlertHistoryEntry } from './store/alert-store.js';

/**
 * diagnostics_channel names this package publishes on (see docs/telemetry.md). No message
 * carries an alert's text, resource id or key (they may hold customer data).
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * import { alertingChannels } from '@hardening/alerting';
 * subscribe(alertingChannels.lifecycle, ({ alertId, outcome }) => console.log(alertId, outcome));
 * ```
 */
export const alertingChannels = Object.freeze({
  /** `{ alertId, type, severity }` when an alert is raised (before dedup). */
  raised: 'hardening:alerting:raised',
  /** `{ alertId, type, severity, outcome, sinks }` for every recorded outcome: delivered, suppressed, silenced, inhibited, disabled, failed, resolved, escalated, acknowledged, confirmed (a delivery receipt). */
  lifecycle: 'hardening:alerting:lifecycle',
  /** `{ alertId, type, sink, outcome: 'delivered' | 'failed', errorType? }` per sink tried. */
  sink: 'hardening:alerting:sink',
});

const raisedChannel = channel(alertingChannels.raised);
const lifecycleChannel = channel(alertingChannels.lifecycle);
const sinkChannel = channel(alertingChannels.sink);

/** What the pending-pages gauge reads. */
interface ObservedPending {
  readonly summary: { readonly count: number };
}
const pendingQueues = new WeakCollection<ObservedPending>();

interface Instruments {
  readonly alerts: Counter;
  readonly sinkDeliveries: Counter;
}

const scope = new TelemetryScope('@hardening/alerting', (meter: Meter): Instruments => {
  const pending = meter.createObservableGauge('hardening.alerting.pending_pages', {
    unit: '{page}',
    description: 'Pages no sink took yet, retried until delivered or expired (as last counted by maintenance).',
  });
  pending.addCallback((result) => {
    // Instances share the store, so each counts the same pages: the largest count stands.
    let count: number | undefined;
    for (const queue of pendingQueues) count = Math.max(count ?? 0, queue.summary.count);
    if (count !== undefined) result.observe(count);
  });
  return {
    // The same names in both naming profiles: resilience4j has no alerting module.
    alerts: meter.createCounter('hardening.alerting.alerts', { description: 'Alert outcomes by type, severity and outcome.' }),
    sinkDeliveries: meter.createCounter('hardening.alerting.sink_deliveries', { description: 'Sends to an alert sink by sink and outcome.' }),
  };
});

const alertAttributes = (alertId: string, type: string, severity: string): Attributes => ({
  'hardening.alert.id': alertId,
  'hardening.alert.type': type,
  'hardening.alert.severity': severity,
});

/**
 * The alerting package's telemetry, one call per lifecycle event. Events go on the active
 * span (the `alert <type>` span of `sendCriticalAlert`, or the request span of a Twilio
 * status callback); with no active span (maintenance: escalation, receipts timing out) an
 * event becomes a short span of its own, `alert <outcome>`, carrying the alert id.
 */
export const alertTelemetry = {
  /**
   * Runs `sendCriticalAlert`'s work under a span `alert <type>` (status ERROR when the alert
   * was not delivered).
   */
  raise<R extends { readonly status: string }>(message: AlertMessage, run: () => Promise<R>): Promise<R> {
    if (raisedChannel.hasSubscribers) raisedChannel.publish(Object.freeze({ alertId: message.id, type: message.type, severity: message.severity }));
    const live = scope.current();
    const tracer = live?.tracer;
    if (live === undefined || tracer === undefined) return run();
    const { context, trace } = live.api;
    const span = tracer.startSpan(`alert ${message.type}`, { attributes: alertAttributes(message.id, message.type, message.severity) });
    return context.with(trace.setSpan(context.active(), span), run).then(
      (result) => {
        span.setAttribute('hardening.alert.status', result.status);
        if (result.status === 'failed' || result.status === 'invalid') span.setStatus({ code: 2, message: `alert ${result.status}` });
        span.end();
        return result;
      },
      (error: unknown) => {
        span.setStatus({ code: 2, message: 'alerting failed' });
        span.setAttribute('error.type', errorType(error));
        span.end();
        throw error;
      },
    );
  },

  /** An outcome was recorded in the alert history. */
  lifecycle(entry: AlertHistoryEntry): void {
    if (lifecycleChannel.hasSubscribers) {
      lifecycleChannel.publish(
        Object.freeze({ alertId: entry.alertId, type: entry.type, severity: entry.severity, outcome: entry.outcome, sinks: entry.sinks }),
      );
    }
    const live = scope.current();
    if (live === undefined) return;
    live.instruments?.alerts.add(1, {
      'hardening.alert.type': entry.type,
      'hardening.alert.severity': entry.severity,
      'hardening.alert.outcome': entry.outcome,
    });
    if (live.tracer === undefined) return;
    const attributes = {
      ...alertAttributes(entry.alertId, entry.type, entry.severity),
      'hardening.alert.outcome': entry.outcome,
      'hardening.alert.sinks': [...entry.sinks],
    };
    const active = live.api.trace.getActiveSpan();
    if (active?.isRecording()) {
      active.addEvent(`alert.${entry.outcome}`, attributes);
    } else {
      const span = live.tracer.startSpan(`alert ${entry.outcome}`, { attributes });
      if (entry.outcome === 'failed') span.setStatus({ code: 2, message: 'alert not delivered' });
      span.end();
    }
  },

  /** One sink took the alert, or failed to. */
  sink(message: AlertMessage, sink: string, error?: unknown): void {
    const outcome = error === undefined ? 'delivered' : 'failed';
    const type = error === undefined ? undefined : errorType(error);
    if (sinkChannel.hasSubscribers) sinkChannel.publish(Object.freeze({ alertId: message.id, type: message.type, sink, outcome, errorType: type }));
    const live = scope.current();
    if (live === undefined) return;
    live.instruments?.sinkDeliveries.add(1, { 'hardening.alert.sink': sink, 'hardening.alert.outcome': outcome });
    const active = live.api.trace.getActiveSpan();
    if (active?.isRecording()) {
      const attributes: Attributes = { 'hardening.alert.id': message.id, 'hardening.alert.sink': sink, 'hardening.alert.outcome': outcome };
      if (type !== undefined) attributes['error.type'] = type;
      active.addEvent('alert.sink', attributes);
    }
  },

  /** A pending-pages queue exists (for the gauge; held weakly). */
  trackPending(queue: ObservedPending): void {
    pendingQueues.add(queue);
  },
};
