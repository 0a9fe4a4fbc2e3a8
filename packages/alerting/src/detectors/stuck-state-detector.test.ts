import { describe, expect, it } from 'vitest';
import { createAlertService } from '../alert-service.js';
import { captureLogger } from '../../test/support/capture-logger.js';
import { recordingSink } from '../../test/support/recording-sink.js';
import { StuckStateDetector, humanDuration, type TrackedEntity } from './stuck-state-detector.js';

const minute = 60_000;
const hour = 60 * minute;

function setup() {
  let now = Date.parse('2026-03-01T12:00:00Z');
  const clock = { now: () => now };
  const rows = new Map<string, TrackedEntity & { stuckDetectedAt?: Date | null | undefined }>();
  const sms = recordingSink('sms');
  const slack = recordingSink('slack');
  const alerts = createAlertService({ sinks: [sms, slack], clock, logger: captureLogger(), maintenanceIntervalMs: false, env: {} });
  const detector = new StuckStateDetector({
    source: () => [...rows.values()],
    maxDwellMs: { PROVISIONING: 30 * minute, AWAITING_PAYMENT: 24 * hour },
    terminalStates: ['FAILED'],
    markDetected: (entities, at) => entities.forEach((e) => (rows.get(e.id)!.stuckDetectedAt = at)),
    markRecovered: (ids) => ids.forEach((id) => (rows.get(id)!.stuckDetectedAt = null)),
    alerts,
    entityName: 'client',
    clock,
  });
  const put = (id: string, state: string, enteredAgoMs: number, label?: string) =>
    rows.set(id, { id, state, enteredAt: new Date(now - enteredAgoMs), label, stuckDetectedAt: rows.get(id)?.stuckDetectedAt });
  return { detector, rows, put, sms, slack, advance: (ms: number) => (now += ms) };
}

describe('StuckStateDetector', () => {
  it('finds entities past their state’s maximum dwell, with severity by how far past', async () => {
    const { detector, put } = setup();
    put('ok', 'PROVISIONING', 29 * minute);
    put('low', 'PROVISIONING', 31 * minute);
    put('medium', 'PROVISIONING', 61 * minute);
    put('high', 'PROVISIONING', 2 * hour + 1);
    put('terminal', 'FAILED', 1000);
    put('unwatched', 'ACTIVE', 100 * hour);
    const stuck = await detector.detect();
    expect(stuck.map((s) => [s.id, s.severity, s.terminal])).toEqual([
      ['terminal', 'HIGH', true],
      ['high', 'HIGH', false],
      ['medium', 'MEDIUM', false],
      ['low', 'LOW', false],
    ]);
    expect(stuck.find((s) => s.id === 'low')).toMatchObject({ dwellMs: 31 * minute, maxDwellMs: 30 * minute, state: 'PROVISIONING' });
  });

  it('alerts each stuck entity once per 6 h, stores stuckDetectedAt, and resolves when it moves on', async () => {
    const { detector, rows, put, sms, slack, advance } = setup();
    put('c1', 'FAILED', 10 * minute, 'Acme Plumbing');
    const first = await detector.check();
    expect(first.alerted.map((e) => e.id)).toEqual(['c1']);
    expect(rows.get('c1')!.stuckDetectedAt).toEqual(new Date(Date.parse('2026-03-01T12:00:00Z')));
    expect(sms.received[0]).toMatchObject({
      type: 'STUCK_STATE',
      severity: 'HIGH',
      resourceId: 'c1',
      title: 'client Acme Plumbing stuck in FAILED for 10 min',
    });
    expect(sms.received[0]!.message).toBe('FAILED is a terminal state: it will not leave it on its own. Entered 2026-03-01T11:50:00.000Z.');

    advance(6 * hour - minute);
    expect((await detector.check()).alerted).toEqual([]);
    advance(minute);
    expect((await detector.check()).alerted.map((e) => e.id)).toEqual(['c1']);
    expect(sms.received).toHaveLength(2);

    put('c1', 'ACTIVE', 0);
    const recovered = await detector.check();
    expect(recovered.recovered).toEqual(['c1']);
    expect(rows.get('c1')!.stuckDetectedAt).toBeNull();
    expect(slack.received.at(-1)).toMatchObject({ kind: 'resolve', resourceId: 'c1' });
  });

  it('a new state after a detection is a new condition: alerted at once', async () => {
    const { detector, put, sms, advance } = setup();
    put('c2', 'PROVISIONING', 31 * minute);
    await detector.check();
    advance(hour);
    put('c2', 'FAILED', 0);
    const report = await detector.check();
    expect(report.alerted.map((e) => e.state)).toEqual(['FAILED']);
    expect(report.recovered).toEqual([]);
    expect(sms.received.map((m) => m.title)).toEqual(['client c2 stuck in FAILED for 0 min']);
  });

  it('without markDetected, the detector remembers detections itself', async () => {
    let now = 1_000_000_000_000;
    const entered = now - 1;
    const alerts = createAlertService({
      sinks: [recordingSink('sms')],
      clock: { now: () => now },
      logger: captureLogger(),
      maintenanceIntervalMs: false,
      env: {},
    });
    const detector = new StuckStateDetector({
      source: () => [{ id: 'x', state: 'FAILED', enteredAt: entered }],
      maxDwellMs: {},
      terminalStates: ['FAILED'],
      alerts,
      clock: { now: () => now },
    });
    expect((await detector.check()).alerted).toHaveLength(1);
    now += hour;
    expect((await detector.check()).alerted).toHaveLength(0);
  });

  it('humanDuration and option checks', () => {
    expect(humanDuration(90 * minute)).toBe('1 h 30 min');
    expect(humanDuration(26 * hour)).toBe('1 d 2 h');
    expect(humanDuration(45 * minute)).toBe('45 min');
    expect(() => new StuckStateDetector({ source: () => [], maxDwellMs: { A: -1 } })).toThrow(/maxDwellMs.A/);
    expect(() => new StuckStateDetector({ source: 'x' as never, maxDwellMs: {} })).toThrow(/source/);
  });
});
