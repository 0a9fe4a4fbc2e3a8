// The detectors wired as an app wires them (RuntimeMonitor -> StuckStateDetector ->
// AlertService), under vitest's fake timers: detection time under the default 5-minute
// interval, the 6 h re-alert window, escalation after 12 h, aggregation of a burst.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAlertService, RuntimeMonitor, StuckStateDetector, type AlertMessage, type AlertServiceOptions, type TrackedEntity } from '../src/index.js';
import { captureLogger } from './support/capture-logger.js';
import { recordingSink } from './support/recording-sink.js';

const minute = 60_000;
const hour = 60 * minute;

describe('detectors under a fake clock', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse('2026-03-01T09:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function app(types: AlertServiceOptions['types'] = {}) {
    const sms = recordingSink('sms');
    const slack = recordingSink('slack');
    const received: Array<{ at: number; message: AlertMessage; sink: string }> = [];
    for (const sink of [sms, slack]) {
      const send = sink.send.bind(sink);
      sink.send = async (message, context) => {
        received.push({ at: Date.now(), message, sink: sink.name });
        return send(message, context);
      };
    }
    const alerts = createAlertService({ sinks: [sms, slack], logger: captureLogger(), env: {}, types });
    const clients = new Map<string, TrackedEntity & { stuckDetectedAt?: Date | null }>();
    const detector = new StuckStateDetector({
      source: () => [...clients.values()],
      maxDwellMs: { PROVISIONING: 30 * minute, AWAITING_SIGNATURE: 2 * hour },
      terminalStates: ['PROVISIONING_FAILED'],
      markDetected: (entities, at) => entities.forEach((e) => (clients.get(e.id)!.stuckDetectedAt = at)),
      alerts,
      entityName: 'client',
    });
    const monitor = new RuntimeMonitor({ alerts, logger: captureLogger() }); // default: every 5 min, jitter up to 30 s
    monitor.register('stuck-clients', () => detector.check());
    return { alerts, monitor, clients, sms, slack, received };
  }

  it('an entity stuck in a terminal state is alerted within one monitor interval, then not again for 6 h', async () => {
    const { alerts, monitor, clients, received } = app();
    await monitor.start();
    await vi.advanceTimersByTimeAsync(7 * minute + 13_000); // the condition becomes true at an arbitrary moment
    const conditionAt = Date.now();
    clients.set('client_7', { id: 'client_7', state: 'PROVISIONING_FAILED', enteredAt: new Date(conditionAt), label: 'Acme Plumbing' });

    await vi.advanceTimersByTimeAsync(5 * minute + 30_000);
    expect(received).toHaveLength(2); // SMS and Slack (HIGH)
    const latency = received[0]!.at - conditionAt;
    expect(latency).toBeLessThanOrEqual(5 * minute + 30_000); // one interval plus the jitter
    expect(received[0]!.message).toMatchObject({ type: 'STUCK_STATE', severity: 'HIGH', resourceId: 'client_7' });
    console.log(`[alerting figure] condition true -> SMS sink received: ${(latency / 1000).toFixed(1)} s (simulated clock, 5 min interval, jitter up to 30 s)`);

    const firstAt = received[0]!.at;
    await vi.advanceTimersByTimeAsync(6 * hour - 10 * minute);
    expect(received).toHaveLength(2); // checked every 5 minutes for 6 h: not alerted again
    await vi.advanceTimersByTimeAsync(20 * minute);
    expect(received.length).toBe(4); // the window is over and it is still stuck: one more alert
    expect(received[2]!.at - firstAt).toBeGreaterThanOrEqual(6 * hour);
    expect(received[2]!.at - firstAt).toBeLessThanOrEqual(6 * hour + 5 * minute + 30_000);
    await monitor.stop();
    await alerts.close();
  });

  it('escalation: an unresolved MEDIUM alert raised again and again becomes HIGH (SMS) after 12 h, once', async () => {
    const { alerts, monitor, received } = app();
    // A condition checked every round that stays true (a queue backlog): raised each round, suppressed as a duplicate.
    monitor.register('queue-backlog', () =>
      alerts.sendCriticalAlert({
        type: 'QUEUE_BACKLOG',
        severity: 'MEDIUM',
        resourceId: 'sms-outbox',
        title: 'Outbox backlog',
        message: '900 messages waiting',
      }),
    );
    await monitor.start();
    await vi.advanceTimersByTimeAsync(5 * minute + 30_000);
    expect(received.map((r) => `${r.sink}:${r.message.severity}`)).toEqual(['slack:MEDIUM']);
    const raisedAt = received[0]!.at;

    await vi.advanceTimersByTimeAsync(12 * hour - 10 * minute);
    expect(received.filter((r) => r.sink === 'sms')).toEqual([]);
    expect(received.map((r) => r.message.kind)).toEqual(['alert', 'alert']); // a reminder on Slack after the 6 h window
    await vi.advanceTimersByTimeAsync(20 * minute);
    const escalations = received.filter((r) => r.message.kind === 'escalation');
    expect(escalations.map((r) => `${r.sink}:${r.message.severity}`)).toEqual(['sms:HIGH', 'slack:HIGH']);
    expect(escalations[0]!.message.message).toMatch(/^Unresolved for 12(\.\d)? h \(raised \d+ times\)\. 900 messages waiting$/);
    expect(escalations[0]!.at - raisedAt).toBeGreaterThanOrEqual(12 * hour);
    expect(escalations[0]!.at - raisedAt).toBeLessThanOrEqual(12 * hour + 2 * minute); // maintenance runs every minute

    await vi.advanceTimersByTimeAsync(3 * hour);
    expect(received.filter((r) => r.message.kind === 'escalation')).toHaveLength(2);
    expect((await alerts.getAlertStats({ hours: 24 })).escalated).toBe(1);
    await monitor.stop();
    await alerts.close();
  });

  it('escalation does not happen once the alert is resolved', async () => {
    const { alerts, received } = app();
    await alerts.sendCriticalAlert({ type: 'SLOW_REPLIES', severity: 'MEDIUM', title: 'Replies slow', message: 'p95 9 s' });
    await vi.advanceTimersByTimeAsync(hour);
    await alerts.resolveAlert({ type: 'SLOW_REPLIES' });
    await vi.advanceTimersByTimeAsync(13 * hour);
    expect(received.map((r) => r.message.kind)).toEqual(['alert', 'resolve']);
    await alerts.close();
  });

  it('aggregation: a burst of one type within the group wait goes out as one message', async () => {
    const { alerts, monitor, clients, received } = app({
      STUCK_STATE: { groupWaitMs: 30_000, groupTitle: (members) => `${members.length} clients stuck: ${members.map((m) => m.resourceId).join(', ')}` },
    });
    for (const id of ['client_1', 'client_2', 'client_3']) {
      clients.set(id, { id, state: 'PROVISIONING_FAILED', enteredAt: new Date(Date.now() - minute) });
    }
    await monitor.start();
    await vi.advanceTimersByTimeAsync(5 * minute + 30_000 + 30_000);
    expect(received.map((r) => r.sink)).toEqual(['sms', 'slack']);
    const message = received[0]!.message;
    expect(message.title).toBe('3 clients stuck: client_1, client_2, client_3');
    expect(message.members?.map((m) => m.resourceId)).toEqual(['client_1', 'client_2', 'client_3']);
    expect(message.message.split('\n')).toHaveLength(3);
    const stats = await alerts.getAlertStats();
    expect(stats.byType.STUCK_STATE?.delivered).toBe(3); // each alert is recorded as delivered, in one message
    // each keeps its own dedup key: raised again, all three are suppressed
    const again = await Promise.all(
      ['client_1', 'client_2', 'client_3'].map((id) =>
        alerts.sendCriticalAlert({ type: 'STUCK_STATE', severity: 'HIGH', resourceId: id, title: 't', message: '' }),
      ),
    );
    expect(again.map((r) => r.status)).toEqual(['suppressed', 'suppressed', 'suppressed']);
    await monitor.stop();
    await alerts.close();
  });

  it('an alert raised alone in its group wait goes out as itself, after the wait', async () => {
    const { alerts, received } = app({ STUCK_STATE: { groupWaitMs: 30_000 } });
    const pending = alerts.sendCriticalAlert({ type: 'STUCK_STATE', severity: 'HIGH', resourceId: 'c9', title: 'client c9 stuck', message: '' });
    await vi.advanceTimersByTimeAsync(29_000);
    expect(received).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    const result = await pending;
    expect(result).toMatchObject({ status: 'delivered', deliveredTo: ['sms', 'slack'] });
    expect(result.groupSize).toBeUndefined();
    expect(received[0]!.message.title).toBe('client c9 stuck');
    await alerts.close();
  });
});
