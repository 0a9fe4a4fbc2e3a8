import { describe, expect, it } from 'vitest';
import {
  configureAlerts,
  getAlertStats,
  getAlertSystemStatus,
  getDefaultAlertService,
  resolveAlert,
  sendCriticalAlert,
  silenceAlerts,
} from './default-service.js';
import { captureLogger } from '../test/support/capture-logger.js';
import { recordingSink } from '../test/support/recording-sink.js';

describe('process-wide alert service', () => {
  it('before configuration: status says alerting is off, alerts still reach the log', async () => {
    expect(getDefaultAlertService()).toBeUndefined();
    expect(getAlertSystemStatus()).toMatchObject({ enabled: false, reason: expect.stringContaining('not configured') });
    const result = await sendCriticalAlert({ type: 'EARLY', severity: 'HIGH', title: 'before configure', message: '' });
    expect(result).toMatchObject({ status: 'delivered', deliveredTo: ['log'] }); // the log is the only route there is
  });

  it('configureAlerts sets the service the module functions use', async () => {
    const sms = recordingSink('sms');
    const service = configureAlerts({ sinks: [sms], logger: captureLogger(), maintenanceIntervalMs: false, env: {} });
    expect(getDefaultAlertService()).toBe(service);
    expect(getAlertSystemStatus()).toMatchObject({ enabled: true, sinks: ['sms', 'log'] });
    expect((await sendCriticalAlert({ type: 'X', severity: 'HIGH', title: 't', message: '' })).status).toBe('delivered');
    const restore = silenceAlerts({ type: 'Y' });
    expect((await sendCriticalAlert({ type: 'Y', severity: 'HIGH', title: 't', message: '' })).status).toBe('silenced');
    restore();
    expect((await resolveAlert({ type: 'X' })).status).toBe('resolved');
    expect(await getAlertStats({ hours: 1 })).toMatchObject({ delivered: 1, silenced: 1, resolved: 1 });
    expect(sms.received.map((m) => m.kind)).toEqual(['alert', 'resolve']);
    await service.close();
    expect(getAlertSystemStatus()).toMatchObject({ enabled: false, reason: 'alert service closed' });
  });
});
