import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { installOtel } from '@hardening/test-support';
import type { TestOtel } from '@hardening/test-support';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAlertService } from './alert-service.js';
import { alertingChannels } from './telemetry.js';
import { captureLogger } from '../test/support/capture-logger.js';
import { recordingSink } from '../test/support/recording-sink.js';

const hour = 3_600_000;
let otel: TestOtel;
beforeEach(() => {
  otel = installOtel();
});
afterEach(async () => {
  await otel.uninstall();
});

function setup() {
  let now = Date.parse('2026-03-01T02:00:00Z');
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const sms = recordingSink('sms');
  const slack = recordingSink('slack');
  const alerts = createAlertService({
    sinks: [sms, slack],
    clock,
    logger: captureLogger(),
    maintenanceIntervalMs: false,
    retry: { attempts: 1, initialDelayMs: 1, timeoutMs: 1000 },
    env: {},
  });
  return { alerts, sms, slack, clock };
}

const high = { type: 'DB_DOWN', severity: 'HIGH' as const, resourceId: 'db1', title: 'Database down', message: 'ECONNREFUSED' };

describe('alerting telemetry (real OTel SDK)', () => {
  it('traces an alert: raised span with per-sink delivery and the outcome as events, the alert id on each', async () => {
    const { alerts, sms, clock } = setup();
    sms.failWith(Object.assign(new Error('HTTP 503'), { status: 503 }));
    const first = await alerts.sendCriticalAlert(high);
    const duplicate = await alerts.sendCriticalAlert(high);
    expect(first.status).toBe('delivered');
    expect(duplicate.status).toBe('suppressed');
    const spans = otel.spans().filter((s) => s.name === 'alert DB_DOWN');
    expect(spans).toHaveLength(2);
    const [raised, suppressed] = spans;
    expect(raised!.attributes).toMatchObject({ 'hardening.alert.type': 'DB_DOWN', 'hardening.alert.severity': 'HIGH', 'hardening.alert.status': 'delivered' });
    const alertId = raised!.attributes['hardening.alert.id'];
    const events = raised!.events.map((e) =>
      `${e.name} ${String(e.attributes?.['hardening.alert.sink'] ?? '')} ${String(e.attributes?.['hardening.alert.outcome'])}`.replace('  ', ' '),
    );
    expect(events).toEqual(expect.arrayContaining(['alert.sink sms failed', 'alert.sink slack delivered', 'alert.delivered delivered']));
    expect(raised!.events.find((e) => e.name === 'alert.sink' && e.attributes?.['hardening.alert.sink'] === 'sms')!.attributes?.['error.type']).toBe('503');
    expect(suppressed!.events.map((e) => e.name)).toEqual(['alert.suppressed']);
    // The safeCall span of each sink send is a child of the alert span.
    const sinkCalls = otel.spans().filter((s) => s.name.startsWith('safeCall alert_sink:') && s.parentSpanContext?.spanId === raised!.spanContext().spanId);
    expect(sinkCalls.map((s) => s.name).sort()).toEqual(['safeCall alert_sink:slack', 'safeCall alert_sink:sms']);
    const counts = await otel.points('hardening.alerting.alerts', { 'hardening.alert.type': 'DB_DOWN' });
    expect(Object.fromEntries(counts.map((p) => [p.attributes['hardening.alert.outcome'], p.value]))).toEqual({ delivered: 1, suppressed: 1 });
    const sinks = await otel.points('hardening.alerting.sink_deliveries');
    expect(
      Object.fromEntries(sinks.map((p) => [`${String(p.attributes['hardening.alert.sink'])} ${String(p.attributes['hardening.alert.outcome'])}`, p.value])),
    ).toEqual({ 'sms failed': 1, 'slack delivered': 1 });
    expect(typeof alertId).toBe('string');
    // The SMS is still owed (Slack took the alert): the next maintenance round sends it.
    clock.advance(10_000);
    await alerts.runMaintenance();
    expect(sms.received).toHaveLength(1);
    expect((await otel.points('hardening.alerting.pending_pages')).map((p) => p.value)).toEqual([0]);
    await alerts.close();
  });

  it('an escalation in maintenance is a span of its own carrying the alert id; pending pages are a gauge', async () => {
    const { alerts, clock } = setup();
    await alerts.sendCriticalAlert({ ...high, type: 'SLOW', severity: 'MEDIUM' });
    clock.advance(13 * hour);
    // Still happening after the 6 h window: a new alert, which maintenance escalates.
    const medium = await alerts.sendCriticalAlert({ ...high, type: 'SLOW', severity: 'MEDIUM' });
    const report = await alerts.runMaintenance();
    expect(report.escalated).toBe(1);
    const [escalated] = otel.spans().filter((s) => s.name === 'alert escalated');
    expect(escalated!.attributes).toMatchObject({
      'hardening.alert.id': medium.alertId,
      'hardening.alert.type': 'SLOW',
      'hardening.alert.outcome': 'escalated',
    });
    const pending = await otel.points('hardening.alerting.pending_pages');
    expect(pending.map((p) => p.value)).toEqual([0]);
    await alerts.close();
  });

  it('an acknowledgement is a lifecycle span carrying the alert id', async () => {
    const { alerts } = setup();
    const raised = await alerts.sendCriticalAlert(high);
    const outcome = await alerts.acknowledge(raised.alertId, { by: 'alice', via: 'api' });
    expect(outcome.status).toBe('acknowledged');
    const [acked] = otel.spans().filter((s) => s.name === 'alert acknowledged');
    expect(acked!.attributes).toMatchObject({ 'hardening.alert.id': raised.alertId, 'hardening.alert.outcome': 'acknowledged' });
    const counts = await otel.points('hardening.alerting.alerts', { 'hardening.alert.outcome': 'acknowledged' });
    expect(counts.map((p) => p.value)).toEqual([1]);
    await alerts.close();
  });

  it('publishes raised, sink and lifecycle messages on diagnostics_channel, without alert text or resource', async () => {
    await otel.uninstall();
    const seen: Array<[string, unknown]> = [];
    const offs = Object.entries(alertingChannels).map(([key, name]) => {
      const listener = (m: unknown) => seen.push([key, m]);
      subscribe(name, listener);
      return () => unsubscribe(name, listener);
    });
    try {
      const { alerts } = setup();
      await alerts.sendCriticalAlert(high);
    } finally {
      for (const off of offs) off();
      otel = installOtel();
    }
    expect(seen.map(([key, m]) => `${key} ${String((m as { outcome?: string }).outcome ?? '')}`.trim())).toEqual([
      'raised',
      'sink delivered',
      'sink delivered',
      'lifecycle delivered',
    ]);
    expect(JSON.stringify(seen)).not.toMatch(/ECONNREFUSED|Database down|db1/);
  });
});
