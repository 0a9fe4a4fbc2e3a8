import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakePagerDuty, startFakeSlack, startFakeTwilio, type FakePagerDuty, type FakeSlack, type FakeTwilio } from '@hardening/test-support';
import { createAlertServiceFromEnv } from './from-env.js';
import { captureLogger } from '../test/support/capture-logger.js';

describe('createAlertServiceFromEnv', () => {
  let twilio: FakeTwilio;
  let slack: FakeSlack;
  let pagerduty: FakePagerDuty;
  beforeAll(async () => {
    [twilio, slack, pagerduty] = await Promise.all([startFakeTwilio(), startFakeSlack(), startFakePagerDuty()]);
  });
  afterAll(async () => {
    await Promise.all([twilio.close(), slack.close(), pagerduty.close()]);
  });

  it("reads the reference app's former names (ADMIN_PHONE, SLACK_ALERTS_CHANNEL, TWILIO_NUMBER) as deprecated aliases, with a warning each", async () => {
    const logger = captureLogger();
    const env = {
      ADMIN_PHONE: '+15551234567',
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_NUMBER: '+15557654321',
      SLACK_BOT_TOKEN: 'xoxb-from-env',
      SLACK_ALERTS_CHANNEL: '#ops-alerts',
      SLACK_API_URL: slack.apiUrl,
    };
    const alerts = await createAlertServiceFromEnv({
      env,
      clients: { twilio: twilio.client() },
      logger,
      maintenanceIntervalMs: false,
      retry: { initialDelayMs: 10 },
    });
    expect(alerts.getAlertSystemStatus().sinks).toEqual(['sms', 'slack', 'log']);
    await alerts.sendCriticalAlert({ type: 'ALIAS_TEST', severity: 'HIGH', title: 'Alias test', message: 'old names still work' });
    expect(twilio.messages.at(-1)).toMatchObject({ to: '+15551234567', from: '+15557654321' });
    expect(slack.messages.at(-1)).toMatchObject({ channel: '#ops-alerts' });
    const warnings = logger.lines.filter((l) => l.level === 'warn' && / is deprecated for alerting/.test(l.msg ?? '')).map((l) => l.msg!.split(' ')[0]);
    expect(warnings.sort()).toEqual(['ADMIN_PHONE', 'SLACK_ALERTS_CHANNEL', 'TWILIO_NUMBER']);
    expect(logger.lines.some((l) => l.msg?.includes('+15551234567'))).toBe(false);
    await alerts.close();
  });

  it('builds SMS, Slack (creating the WebClient itself), PagerDuty and webhook sinks from the environment, with routes', async () => {
    const env = {
      ALERT_SMS_TO: '+15551234567',
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_FROM_NUMBER: '+15557654321',
      SLACK_BOT_TOKEN: 'xoxb-from-env',
      SLACK_ALERT_CHANNEL: '#ops-alerts',
      SLACK_API_URL: slack.apiUrl,
      PAGERDUTY_ROUTING_KEY: 'R0UT1NGKEY0123456789abcdefABCDEF',
      PAGERDUTY_EVENTS_URL: pagerduty.eventsUrl,
      ALERT_ROUTE_HIGH: 'sms,slack,pagerduty',
    };
    const alerts = await createAlertServiceFromEnv({
      env,
      clients: { twilio: twilio.client() },
      logger: captureLogger(),
      maintenanceIntervalMs: false,
      retry: { initialDelayMs: 10 },
    });
    const status = alerts.getAlertSystemStatus();
    expect(status).toMatchObject({ enabled: true, sinks: ['sms', 'slack', 'pagerduty', 'log'] });
    expect(status.routes.HIGH).toEqual(['sms', 'slack', 'pagerduty']);

    const result = await alerts.sendCriticalAlert({ type: 'TEST_ALERT', severity: 'HIGH', title: 'Test alert', message: 'If you read this, alerts work.' });
    expect(result.deliveredTo).toEqual(['sms', 'slack', 'pagerduty']);
    expect(twilio.messages.at(-1)).toMatchObject({ to: '+15551234567', from: '+15557654321' });
    expect(slack.messages.at(-1)).toMatchObject({ channel: '#ops-alerts' });
    expect(slack.requests.at(-1)!.headers.authorization).toBe('Bearer xoxb-from-env');
    expect(pagerduty.events.at(-1)).toMatchObject({ action: 'trigger', dedupKey: 'TEST_ALERT/*' });
    await alerts.close();
  });

  it('names what is missing for a half-configured sink, and checks numbers', async () => {
    await expect(createAlertServiceFromEnv({ env: { ALERT_SMS_TO: '+15551234567' } })).rejects.toThrow(
      'Alerting configuration: SMS alerts needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER (or TWILIO_MESSAGING_SERVICE_SID) to be set.',
    );
    await expect(
      createAlertServiceFromEnv({ env: { ALERT_SMS_TO: '555 1234', TWILIO_FROM_NUMBER: '+15557654321' }, clients: { twilio: twilio.client() } }),
    ).rejects.toThrow(/ALERT_SMS_TO/);
    await expect(createAlertServiceFromEnv({ env: { SLACK_ALERT_CHANNEL: '#alerts' } })).rejects.toThrow(/Slack alerts needs SLACK_BOT_TOKEN/);
  });

  it('Twilio or Slack credentials alone (used by the app for other things) do not create alert sinks', async () => {
    const alerts = await createAlertServiceFromEnv({
      env: { TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 't', SLACK_BOT_TOKEN: 'xoxb-1' },
      logger: captureLogger(),
      maintenanceIntervalMs: false,
    });
    expect(alerts.getAlertSystemStatus()).toMatchObject({ enabled: false, sinks: ['log'] });
  });

  it('creates the twilio client itself when none is given', async () => {
    const alerts = await createAlertServiceFromEnv({
      env: {
        ALERT_SMS_TO: '+15551234567',
        TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
        TWILIO_AUTH_TOKEN: 'token',
        TWILIO_FROM_NUMBER: '+15557654321',
        ALERTS_DISABLED: 'true',
      },
      logger: captureLogger(),
      banner: () => {},
      maintenanceIntervalMs: false,
    });
    expect(alerts.getAlertSystemStatus()).toMatchObject({ enabled: false, reason: 'ALERTS_DISABLED=true', sinks: ['sms', 'log'] });
  });
});
