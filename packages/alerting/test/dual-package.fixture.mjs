// Loads @hardening/alerting twice, as CJS and as ESM, the way an app and a dependency might.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const cjs = require('../dist/index.cjs');
const esm = await import('../dist/index.js');
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const out = {};
out.twoCopies = cjs.createAlertService !== esm.createAlertService;
const fromEsm = new esm.SinkRejectedError('slack', 'Slack answered channel_not_found', { providerCode: 'channel_not_found' });
out.guardAcross = cjs.isSinkRejectedError(fromEsm) && !cjs.isDeliveryUnconfirmedError(fromEsm);
// The process-wide service configured through one copy is the one the other copy uses.
esm.configureAlerts({ logger: silent, maintenanceIntervalMs: false, env: {} });
out.sameDefaultService = cjs.getDefaultAlertService() === esm.getDefaultAlertService();
// Both copies work end to end (the CJS one carries its own copy of the ESM-only p-limit).
const alerts = cjs.createAlertService({ logger: silent, maintenanceIntervalMs: false, env: {} });
const statuses = [];
for (let i = 0; i < 2; i++) statuses.push((await alerts.sendCriticalAlert({ type: 'DUAL', severity: 'LOW', title: 't', message: '' })).status);
out.cjsWorks = statuses.join(',') === 'delivered,suppressed' && (await alerts.getAlertStats()).total === 2;
out.esmWorks = (await esm.sendCriticalAlert({ type: 'DUAL', severity: 'LOW', title: 't', message: '' })).status === 'delivered';
console.log(JSON.stringify(out));
