import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAlertService } from './alert-service.js';
import { captureLogger } from '../test/support/capture-logger.js';
import { recordingSink } from '../test/support/recording-sink.js';

// The aggregator is driven through the service: its members' claims, delivery and results are the service's.
function setup() {
  const sms = recordingSink('sms');
  const alerts = createAlertService({
    sinks: [sms],
    logger: captureLogger(),
    maintenanceIntervalMs: false,
    retry: { initialDelayMs: 1, timeoutMs: 1000 },
    env: {},
    types: { STUCK_STATE: { groupWaitMs: 30_000 } },
  });
  return { alerts, sms };
}

const stuck = (resourceId: string) => ({
  type: 'STUCK_STATE',
  severity: 'HIGH' as const,
  resourceId,
  title: `${resourceId} stuck`,
  message: 'in verifying for 2 h',
});

describe('Aggregator (alerts of a type with groupWaitMs)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the group as one message when its wait ends; each caller gets its own result', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { alerts, sms } = setup();
    const pending = Promise.all(['client_1', 'client_2', 'client_3'].map((id) => alerts.sendCriticalAlert(stuck(id))));
    await vi.advanceTimersByTimeAsync(29_000);
    expect(sms.received).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_000);
    const results = await pending;
    expect(results.map((r) => [r.status, r.key, r.groupSize])).toEqual([
      ['delivered', 'client_1', 3],
      ['delivered', 'client_2', 3],
      ['delivered', 'client_3', 3],
    ]);
    expect(sms.received).toHaveLength(1);
    expect(sms.received[0]!.title).toBe('3 STUCK_STATE alerts: client_1, client_2, client_3');
  });

  it('a key resolved while its group waits leaves the group; flushGroups sends the rest at once', async () => {
    const { alerts, sms } = setup();
    const first = alerts.sendCriticalAlert(stuck('client_1'));
    const second = alerts.sendCriticalAlert(stuck('client_2'));
    // The memory store's claims settle within the current turn: after one macrotask both alerts wait in the group.
    await new Promise((resolve) => setImmediate(resolve));
    await alerts.resolveAlert({ type: 'STUCK_STATE', resourceId: 'client_1' });
    await alerts.flushGroups();
    expect(await first).toMatchObject({ status: 'resolved', reason: 'resolved before its group was sent' });
    expect(await second).toMatchObject({ status: 'delivered', key: 'client_2', deliveredTo: ['sms'] });
    expect(sms.received.map((m) => m.resourceId)).toEqual(['client_2']);
    await alerts.close();
  });
});
