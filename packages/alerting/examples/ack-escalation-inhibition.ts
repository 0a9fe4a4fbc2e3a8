import { createAlertService, createMemoryAlertStore, defaultInhibitRule, type AlertSink } from '@hardening/alerting';

// Two sinks that print what they get (use createTwilioSmsSink / createSlackSink in production).
const printer = (name: string): AlertSink => ({ name, send: (m) => (console.log(`${name}: [${m.kind}] ${m.title}`), Promise.resolve({})) });
let now = Date.parse('2026-03-01T03:00:00Z');
const store = createMemoryAlertStore(); // Redis or PostgreSQL when several instances run
const alerts = createAlertService({
  sinks: [printer('sms'), printer('slack')],
  store,
  clock: { now: () => now },
  maintenanceIntervalMs: false,
  escalation: { steps: [{ afterMs: 10 * 60_000, sinks: ['slack'] }, { afterMs: 30 * 60_000, sinks: ['sms'] }] },
  inhibitRules: [defaultInhibitRule, { source: { type: 'DB_DOWN' }, target: { type: 'QUEUE_BACKLOG' } }],
});

const db = await alerts.sendCriticalAlert({ type: 'DB_DOWN', severity: 'HIGH', resourceId: 'db1', title: 'Database down', message: 'Connection refused' });
console.log((await alerts.sendCriticalAlert({ type: 'QUEUE_BACKLOG', severity: 'HIGH', title: 'Queue backing up', message: '900 waiting' })).status); // inhibited

now += 11 * 60_000;
await alerts.runMaintenance(); // slack: [escalation] Database down (step 1)
console.log((await alerts.acknowledge(db.alertId, { by: 'alice' })).status); // acknowledged
now += 30 * 60_000;
await alerts.runMaintenance(); // nothing: acknowledged, step 2 does not fire
console.log(alerts.getAlertSystemStatus().acknowledged.map((a) => `${a.type} by ${a.by} via ${a.via}`)); // [ 'DB_DOWN by alice via api' ]
await alerts.close();
