import { describe, expect, it, vi } from 'vitest';
import type { AlertStore } from './store/alert-store.js';
import { createMemoryAlertStore } from './store/memory-store.js';
import { createAlertService } from './alert-service.js';
import type { AlertServiceOptions } from './alert-service-options.js';
import { captureLogger } from '../test/support/capture-logger.js';
import { recordingSink } from '../test/support/recording-sink.js';

const hour = 3_600_000;

function setup(extra: Partial<AlertServiceOptions> = {}) {
  let now = Date.parse('2026-03-01T02:00:00Z');
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const sms = recordingSink('sms');
  const slack = recordingSink('slack');
  const logger = captureLogger();
  const alerts = createAlertService({
    sinks: [sms, slack],
    clock,
    logger,
    maintenanceIntervalMs: false,
    retry: { initialDelayMs: 1, timeoutMs: 1000 },
    env: {},
    ...extra,
  });
  return { alerts, sms, slack, logger, clock };
}

const high = { type: 'DB_DOWN', severity: 'HIGH' as const, resourceId: 'db1', title: 'Database down', message: 'ECONNREFUSED' };

describe('AlertService', () => {
  it('routes by severity: HIGH to SMS and Slack, MEDIUM to Slack, LOW to the log', async () => {
    const { alerts, sms, slack, logger } = setup();
    expect((await alerts.sendCriticalAlert(high)).deliveredTo).toEqual(['sms', 'slack']);
    expect((await alerts.sendCriticalAlert({ ...high, type: 'SLOW', severity: 'MEDIUM', resourceId: 'api' })).deliveredTo).toEqual(['slack']);
    const low = await alerts.sendCriticalAlert({ ...high, type: 'NOTE', severity: 'LOW', resourceId: 'api' });
    expect(low).toMatchObject({ status: 'delivered', deliveredTo: ['log'] });
    expect(sms.received.map((m) => m.type)).toEqual(['DB_DOWN']);
    expect(slack.received.map((m) => m.type)).toEqual(['DB_DOWN', 'SLOW']);
    expect(logger.lines.some((l) => l.level === 'info' && l.msg === 'ALERT [LOW] NOTE: Database down (api)')).toBe(true);
  });

  it('routes per type when configured, and refuses routes naming unknown sinks', async () => {
    const { alerts, sms, slack } = setup({ types: { PAYMENT: { routes: { MEDIUM: ['sms'] } } }, routes: { HIGH: ['slack'] } });
    await alerts.sendCriticalAlert({ ...high, type: 'PAYMENT', severity: 'MEDIUM' });
    await alerts.sendCriticalAlert(high);
    expect(sms.received.map((m) => m.type)).toEqual(['PAYMENT']);
    expect(slack.received.map((m) => m.type)).toEqual(['DB_DOWN']);
    expect(() => setup({ routes: { HIGH: ['pagerduty'] } })).toThrow(/names the sink "pagerduty", which is not configured/);
    expect(() => setup({ types: { X: { routes: { URGENT: ['sms'] } as never } } })).toThrow(/keys of `types.X.routes`/);
    expect(() => setup({ sinks: [recordingSink('sms'), recordingSink('sms')] })).toThrow(/names must be unique/);
    expect(() => setup({ windowMs: 0 })).toThrow(/windowMs/);
  });

  it('a route with no configured sink goes to the first remote sink rather than nowhere', async () => {
    const pagerduty = recordingSink('pagerduty');
    const alerts = createAlertService({ sinks: [pagerduty], maintenanceIntervalMs: false, logger: captureLogger(), env: {} });
    expect((await alerts.sendCriticalAlert(high)).deliveredTo).toEqual(['pagerduty']);
    expect(alerts.getAlertSystemStatus().routes).toEqual({ LOW: ['log'], MEDIUM: ['pagerduty'], HIGH: ['pagerduty'] });
  });

  it('delivers one alert per (type, resource) per 6 h window; duplicates are suppressed and recorded', async () => {
    const { alerts, sms, clock } = setup();
    const first = await alerts.sendCriticalAlert(high);
    const duplicate = await alerts.sendCriticalAlert(high);
    const other = await alerts.sendCriticalAlert({ ...high, resourceId: 'db2' });
    expect(first.status).toBe('delivered');
    expect(duplicate).toMatchObject({ status: 'suppressed', alertId: first.alertId });
    expect(duplicate.reason).toContain('until 2026-03-01T08:00:00.000Z');
    expect(other.status).toBe('delivered');
    clock.advance(6 * hour - 1);
    expect((await alerts.sendCriticalAlert(high)).status).toBe('suppressed');
    clock.advance(1);
    expect((await alerts.sendCriticalAlert(high)).status).toBe('delivered');
    expect(sms.received.map((m) => m.resourceId)).toEqual(['db1', 'db2', 'db1']);
    const stats = await alerts.getAlertStats({ hours: 24 });
    expect(stats).toMatchObject({ delivered: 3, suppressed: 2, total: 5 });
    expect(stats.byType.DB_DOWN).toMatchObject({ delivered: 3, suppressed: 2, total: 5 });
    expect(stats.bySeverity.HIGH.total).toBe(5);
  });

  it('a per-type window overrides the default', async () => {
    const { alerts, clock } = setup({ types: { OPENAI_FAILURE: { windowMs: hour } } });
    const alert = { type: 'OPENAI_FAILURE', severity: 'HIGH' as const, title: 'OpenAI failing', message: '' };
    expect((await alerts.sendCriticalAlert(alert)).status).toBe('delivered');
    clock.advance(hour);
    expect((await alerts.sendCriticalAlert(alert)).status).toBe('delivered');
  });

  it('silences: matching alerts are silenced until the end, visibly; restore ends one early', async () => {
    const { alerts, sms, clock, logger } = setup();
    const restore = alerts.silenceAlerts({ type: /^DB_/, severity: 'HIGH' }, { durationMs: 30 * 60_000, reason: 'DB maintenance' });
    expect(alerts.getAlertSystemStatus().silences).toEqual([
      {
        id: restore.id,
        matcher: 'type=/^DB_/ severity=HIGH',
        reason: 'DB maintenance',
        createdAt: '2026-03-01T02:00:00.000Z',
        until: '2026-03-01T02:30:00.000Z',
      },
    ]);
    expect(logger.lines.some((l) => l.level === 'warn' && l.msg === 'alerts silenced: type=/^DB_/ severity=HIGH until 2026-03-01T02:30:00.000Z')).toBe(true);
    const silenced = await alerts.sendCriticalAlert(high);
    expect(silenced.status).toBe('silenced');
    expect(silenced.reason).toContain(restore.id);
    expect((await alerts.sendCriticalAlert({ ...high, type: 'API_DOWN' })).status).toBe('delivered');
    clock.advance(30 * 60_000);
    expect(alerts.getAlertSystemStatus().silences).toEqual([]);
    expect((await alerts.sendCriticalAlert(high)).status).toBe('delivered');

    const all = alerts.silenceAlerts();
    expect((await alerts.sendCriticalAlert({ ...high, resourceId: 'db9' })).status).toBe('silenced');
    all();
    expect((await alerts.sendCriticalAlert({ ...high, resourceId: 'db9' })).status).toBe('delivered');
    expect(sms.received.map((m) => `${m.type}/${m.resourceId}`)).toEqual(['API_DOWN/db1', 'DB_DOWN/db1', 'DB_DOWN/db9']);
    expect((await alerts.getAlertStats()).silenced).toBe(2);
  });

  it('silences must end: no end in the past, none longer than 7 days, no bad matcher', () => {
    const { alerts } = setup();
    expect(() => alerts.silenceAlerts({}, { durationMs: 8 * 24 * hour })).toThrow(/at most 7 days/);
    expect(() => alerts.silenceAlerts({}, { until: Date.parse('2026-01-01T00:00:00Z') })).toThrow(/in the future/);
    expect(() => alerts.silenceAlerts({ severity: 'URGENT' as never })).toThrow(/severity/);
    expect(() => alerts.silenceAlerts('DB_DOWN' as never)).toThrow(/matcher/);
  });

  it('inhibition: an open HIGH alert on a resource mutes MEDIUM and LOW alerts on it until resolved', async () => {
    const { alerts, slack } = setup();
    await alerts.sendCriticalAlert({ type: 'CLIENT_DOWN', severity: 'HIGH', resourceId: 'client_1', title: 'Client line down', message: '' });
    const muted = await alerts.sendCriticalAlert({ type: 'CLIENT_SLOW', severity: 'MEDIUM', resourceId: 'client_1', title: 'Slow replies', message: '' });
    const otherResource = await alerts.sendCriticalAlert({
      type: 'CLIENT_SLOW',
      severity: 'MEDIUM',
      resourceId: 'client_2',
      title: 'Slow replies',
      message: '',
    });
    expect(muted).toMatchObject({ status: 'inhibited', reason: 'a HIGH alert is open on the same resource' });
    expect(otherResource.status).toBe('delivered');
    await alerts.resolveAlert({ type: 'CLIENT_DOWN', resourceId: 'client_1' });
    expect(
      (await alerts.sendCriticalAlert({ type: 'CLIENT_SLOW', severity: 'MEDIUM', resourceId: 'client_1', title: 'Slow replies', message: '' })).status,
    ).toBe('delivered');
    expect(slack.received.filter((m) => m.kind === 'alert').map((m) => `${m.type}/${m.resourceId}`)).toEqual([
      'CLIENT_DOWN/client_1',
      'CLIENT_SLOW/client_2',
      'CLIENT_SLOW/client_1',
    ]);
    expect((await alerts.getAlertStats()).inhibited).toBe(1);
  });

  it('resolve notices go to the sinks that had the alert, under the same key, and free it', async () => {
    const { alerts, sms, slack } = setup();
    await alerts.sendCriticalAlert(high);
    const resolved = await alerts.resolveAlert({ ...high, message: 'Back up after failover.' });
    expect(resolved).toMatchObject({ status: 'resolved', deliveredTo: ['sms', 'slack'], key: 'db1' });
    const notice = slack.received[1]!;
    expect(notice).toMatchObject({ kind: 'resolve', type: 'DB_DOWN', key: 'db1', dedupKey: 'DB_DOWN/db1', message: 'Back up after failover.' });
    expect(sms.received[1]!.kind).toBe('resolve');
    expect((await alerts.resolveAlert(high)).status).toBe('not_active');
    expect((await alerts.sendCriticalAlert(high)).status).toBe('delivered');
    expect((await alerts.getAlertStats()).resolved).toBe(1);
  });

  it('ALERTS_DISABLED=true: a banner at start, nothing sent, every alert logged as not sent, status disabled', async () => {
    const banner: string[] = [];
    const { alerts, sms, logger } = setup({ env: { ALERTS_DISABLED: 'true' }, banner: (text) => banner.push(text) });
    expect(banner[0]).toContain('ALERTS ARE DISABLED');
    expect(banner[0]).toContain('Reason: ALERTS_DISABLED=true');
    expect(banner[0]!.split('\n').length).toBeGreaterThanOrEqual(8);
    expect(logger.lines[0]).toMatchObject({ level: 'error', msg: 'ALERTS DISABLED: no alert will reach a person until this is switched back on' });
    const result = await alerts.sendCriticalAlert(high);
    expect(result).toMatchObject({ status: 'disabled', reason: 'ALERTS_DISABLED=true' });
    expect(sms.received).toEqual([]);
    expect(logger.lines.some((l) => l.level === 'warn' && l.msg === 'ALERTS DISABLED: not sent: [HIGH] DB_DOWN: Database down')).toBe(true);
    expect(alerts.getAlertSystemStatus()).toMatchObject({ enabled: false, reason: 'ALERTS_DISABLED=true', sinks: ['sms', 'slack', 'log'] });
    expect((await alerts.getAlertStats()).disabled).toBe(1);
  });

  it('status: enabled with sinks, last delivery and last failure; disabled without a remote sink', async () => {
    const { alerts, sms, clock } = setup();
    expect(alerts.getAlertSystemStatus()).toMatchObject({
      enabled: true,
      sinks: ['sms', 'slack', 'log'],
      store: 'memory',
      storeHealthy: true,
      breakers: { sms: 'closed', slack: 'closed' },
    });
    await alerts.sendCriticalAlert(high);
    clock.advance(1000);
    sms.failWith(Object.assign(new Error('bad request'), { status: 400 }));
    await alerts.sendCriticalAlert({ ...high, resourceId: 'db2' });
    const status = alerts.getAlertSystemStatus();
    expect(status.lastDeliveryAt).toBe('2026-03-01T02:00:01.000Z');
    expect(status.lastFailureAt).toBe('2026-03-01T02:00:01.000Z');
    expect(status.lastFailure).toEqual({ sink: 'sms', reason: 'HTTP 400: bad request' });
    const bare = createAlertService({ logger: captureLogger(), maintenanceIntervalMs: false, env: {} });
    expect(bare.getAlertSystemStatus()).toMatchObject({ enabled: false, reason: 'no remote sink configured: alerts only reach the logs', sinks: ['log'] });
  });

  it('never throws: bad input is answered "invalid", a sink that throws synchronously fails over', async () => {
    const { alerts, slack, logger } = setup();
    const invalid = await alerts.sendCriticalAlert({ type: 'bad type!', severity: 'HIGH', title: 't', message: 'm' });
    expect(invalid).toMatchObject({ status: 'invalid' });
    expect(invalid.reason).toMatch(/Expected `type`/);
    expect((await alerts.sendCriticalAlert({ type: 'X', severity: 'URGENT' as never, title: 't', message: '' })).reason).toMatch(/severity/);
    expect((await alerts.sendCriticalAlert(null as never)).status).toBe('invalid');
    const throwing = {
      name: 'sms',
      send: () => {
        throw new TypeError('bug in sink');
      },
    } as never;
    const service = createAlertService({ sinks: [throwing, slack], logger, maintenanceIntervalMs: false, env: {}, retry: { initialDelayMs: 1 } });
    const result = await service.sendCriticalAlert(high);
    expect(result).toMatchObject({ status: 'delivered', failedSinks: ['sms'], deliveredTo: ['slack'] });
  });

  it('keeps alerting when the store fails: deliver anyway, dedup held in the process until it recovers', async () => {
    const broken: AlertStore = new Proxy(createMemoryAlertStore(), {
      get: (target, property) =>
        property === 'kind'
          ? 'broken'
          : () => {
              return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }));
            },
    });
    const { alerts, sms, logger } = setup({ store: broken, storeTimeoutMs: 200 });
    expect((await alerts.sendCriticalAlert(high)).status).toBe('delivered');
    expect(await alerts.sendCriticalAlert(high)).toMatchObject({ status: 'suppressed', claimedVia: 'local' });
    expect(sms.received.filter((m) => m.type === 'DB_DOWN')).toHaveLength(1);
    const status = alerts.getAlertSystemStatus();
    expect(status.storeHealthy).toBe(false);
    expect(status.healthy).toBe(false);
    expect(status.problems.join('\n')).toMatch(/alert store broken down/);
    expect(
      logger.lines.some((l) => l.level === 'error' && l.msg?.startsWith('every alert store is unavailable: delivering with dedup held in this process only')),
    ).toBe(true);
    // the store's outage is itself raised, through what still works
    await new Promise((resolve) => setImmediate(resolve));
    await vi.waitFor(() => expect(sms.received.map((m) => m.type)).toContain('ALERTING_STORE_UNAVAILABLE'));
  });

  it('storeBreaker: the store breaker opens after failureThreshold failures and probes the store again after cooldownMs', async () => {
    let down = true;
    let calls = 0;
    const flaky: AlertStore = new Proxy(createMemoryAlertStore(), {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls++;
          if (down) return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }));
          return Promise.resolve((value as (...a: unknown[]) => unknown).apply(target, args));
        };
      },
    });
    const { alerts } = setup({ store: flaky, storeTimeoutMs: 200, storeBreaker: { failureThreshold: 2, cooldownMs: 300 } });
    for (const resourceId of ['db1', 'db2', 'db3']) {
      expect(await alerts.sendCriticalAlert({ ...high, resourceId })).toMatchObject({ status: 'delivered', claimedVia: 'local' });
    }
    // Open after two failed calls: further claims fall back without asking the store.
    const whileOpen = calls;
    expect(await alerts.sendCriticalAlert({ ...high, resourceId: 'db4' })).toMatchObject({ claimedVia: 'local' });
    expect(calls).toBe(whileOpen);
    // Back up: the probe after the 300 ms cooldown (not the 10 s default) finds it.
    down = false;
    let n = 0;
    await vi.waitFor(async () => expect((await alerts.sendCriticalAlert({ ...high, resourceId: `db_up_${n++}` })).claimedVia).toBe('store'), {
      timeout: 3000,
      interval: 100,
    });
    expect(() => setup({ storeBreaker: { cooldownMs: 0 } })).toThrow(/storeBreaker.cooldownMs/);
    expect(() => setup({ storeBreaker: { failureThreshold: 1.5 } })).toThrow(/storeBreaker.failureThreshold/);
  });

  it('reports every result to onResult; a throwing hook is ignored', async () => {
    const seen: string[] = [];
    const { alerts } = setup({
      onResult: ({ result, message }) => {
        seen.push(`${result.status}:${message.type}`);
        throw new Error('metrics down');
      },
    });
    await alerts.sendCriticalAlert(high);
    await alerts.sendCriticalAlert(high);
    expect(seen).toEqual(['delivered:DB_DOWN', 'suppressed:DB_DOWN']);
  });

  it('getAlertStats rejects a bad period', async () => {
    const { alerts } = setup();
    await expect(alerts.getAlertStats({ hours: -1 })).rejects.toThrow(/hours/);
  });
});
