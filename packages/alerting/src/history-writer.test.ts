import { describe, expect, it } from 'vitest';
import { createMemoryAlertStore } from './store/memory-store.js';
import type { AlertHistoryEntry, AlertStore } from './store/alert-store.js';
import { HistoryWriter } from './history-writer.js';
import { createAlertService } from './alert-service.js';
import { captureLogger } from '../test/support/capture-logger.js';
import { recordingSink } from '../test/support/recording-sink.js';

const at = Date.parse('2026-03-01T02:00:00Z');
const row = (i: number): AlertHistoryEntry => ({
  alertId: `a${i}`,
  type: 'DB_DOWN',
  key: 'db1',
  resourceId: 'db1',
  severity: 'HIGH',
  outcome: 'suppressed',
  sinks: [],
  detail: undefined,
  at: at + i,
});

/** A memory store whose history writes fail while `down` is set (the rest keeps working). */
function flakyHistory(): { store: AlertStore; down: boolean; attempts: number } {
  const inner = createMemoryAlertStore();
  const state = { down: false, attempts: 0, store: undefined as unknown as AlertStore };
  const refuse = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  state.store = {
    ...inner,
    kind: 'postgres',
    claim: (r) => inner.claim(r),
    append: async (entry) => {
      state.attempts++;
      if (state.down) throw refuse();
      return inner.append(entry);
    },
    appendMany: async (entries) => {
      state.attempts++;
      if (state.down) throw refuse();
      return inner.appendMany!(entries);
    },
  };
  return state;
}

/** Timers driven by the test: nothing waits for real time. */
function manualTimers() {
  const due: Array<{ fn: () => void; ms: number; cancelled: boolean }> = [];
  return {
    due,
    schedule: (fn: () => void, ms: number) => {
      const timer = { fn, ms, cancelled: false };
      due.push(timer);
      return { cancel: () => void (timer.cancelled = true) };
    },
    /** Fires the latest live timer. */
    fire: () => {
      const timer = due.filter((t) => !t.cancelled).at(-1);
      if (timer === undefined) throw new Error('no timer due');
      timer.cancelled = true;
      timer.fn();
    },
  };
}

function writer(flaky: ReturnType<typeof flakyHistory>, extra: { maxQueue?: number } = {}) {
  const timers = manualTimers();
  const events: string[] = [];
  const history = new HistoryWriter({
    write: (rows) => flaky.store.appendMany!(rows),
    onDrop: (n) => events.push(`dropped ${n}`),
    onError: (queued, _error, retryInMs) => events.push(`kept ${queued}, retry in ${retryInMs}`),
    onRecovered: (n) => events.push(`recovered ${n}`),
    describe: (error) => (error as Error).message,
    now: () => at,
    schedule: timers.schedule,
    batchSize: 2,
    ...extra,
  });
  return { history, timers, events };
}

describe('HistoryWriter through a store outage', () => {
  it('keeps the rows the store refused, retries with doubling backoff, and writes them all once it answers', async () => {
    const flaky = flakyHistory();
    const { history, timers, events } = writer(flaky);
    flaky.down = true;
    for (let i = 0; i < 5; i++) history.add(row(i));
    await history.idle();
    expect(history.state).toEqual({ queued: 5, dropped: 0, failingSince: new Date(at).toISOString(), lastError: 'connect ECONNREFUSED 127.0.0.1:5432' });
    timers.fire();
    await history.idle();
    timers.fire();
    await history.idle();
    expect(events).toEqual(['kept 5, retry in 1000', 'kept 5, retry in 2000', 'kept 5, retry in 4000']);
    // Rows added meanwhile wait for the next attempt instead of hammering the store.
    const attempts = flaky.attempts;
    history.add(row(5));
    await Promise.resolve();
    await history.idle();
    expect(flaky.attempts).toBe(attempts);

    flaky.down = false;
    timers.fire();
    await history.idle();
    expect(history.state).toEqual({ queued: 0, dropped: 0 });
    expect(events.at(-1)).toBe('recovered 6');
    const written = await flaky.store.history({ since: 0, limit: 100 });
    expect(written.map((e) => e.alertId).sort()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
  });

  it('retryNow writes at once (the maintenance round), without waiting for the backoff', async () => {
    const flaky = flakyHistory();
    const { history, timers } = writer(flaky);
    flaky.down = true;
    history.add(row(1));
    await history.idle();
    flaky.down = false;
    await history.retryNow();
    expect(history.queued).toBe(0);
    expect(timers.due.every((t) => t.cancelled)).toBe(true);
    expect(await flaky.store.history({ since: 0 })).toHaveLength(1);
  });

  it('is bounded: beyond maxQueue the oldest rows are dropped, counted and reported', async () => {
    const flaky = flakyHistory();
    const { history, events } = writer(flaky, { maxQueue: 3 });
    flaky.down = true;
    for (let i = 0; i < 5; i++) history.add(row(i));
    await history.idle();
    expect(history.state).toMatchObject({ queued: 3, dropped: 2 });
    expect(events).toContain('dropped 1');
    flaky.down = false;
    await history.retryNow();
    const written = await flaky.store.history({ since: 0 });
    // The newest rows survive; each was written once.
    expect(written.map((e) => e.alertId).sort()).toEqual(['a2', 'a3', 'a4']);
  });
});

describe('AlertService history while its history store is down', () => {
  it('the suppressed repeats of an outage are counted in stats after recovery; status reports the kept rows meanwhile', async () => {
    const flaky = flakyHistory();
    const logger = captureLogger();
    const alerts = createAlertService({ sinks: [recordingSink('sms')], store: flaky.store, logger, maintenanceIntervalMs: false, env: {} });
    const input = { type: 'DB_DOWN', severity: 'HIGH' as const, resourceId: 'db1', title: 'Database down', message: 'x' };
    flaky.down = true;
    expect((await alerts.sendCriticalAlert(input)).status).toBe('delivered');
    for (let i = 0; i < 4; i++) expect((await alerts.sendCriticalAlert(input)).status).toBe('suppressed');
    await expect.poll(() => alerts.getAlertSystemStatus().history.failingSince).toBeDefined();
    const status = alerts.getAlertSystemStatus();
    // The 5 rows of DB_DOWN, and those of the store-down alert the service raised about itself.
    expect(status.history.queued).toBeGreaterThanOrEqual(5);
    expect(status.healthy).toBe(false);
    expect(status.problems.join('\n')).toMatch(/\d+ history row\(s\) kept in memory since .*ECONNREFUSED/);
    expect(logger.lines.some((l) => l.msg?.includes('history rows lost'))).toBe(false);

    flaky.down = false;
    await alerts.runMaintenance();
    expect(alerts.getAlertSystemStatus().history).toEqual({ queued: 0, dropped: 0 });
    const stats = await alerts.getAlertStats({ hours: 1 });
    expect(stats.byType.DB_DOWN).toMatchObject({ delivered: 1, suppressed: 4 });
    await alerts.close();
  });
});
