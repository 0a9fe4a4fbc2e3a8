// SMS delivery confirmation end to end: the real twilio SDK sends to the fake Messages API
// with a StatusCallback; the fake posts signed status callbacks to an Express app that
// mounts the package's handler.
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSlack, startFakeTwilio, type FakeSlack, type FakeTwilio } from '@hardening/test-support';
import { createAlertService, createTwilioSmsSink, expressTwilioStatusCallback, type AlertService } from '../src/index.js';
import { captureLogger } from './support/capture-logger.js';
import { smsAndSlackSinks } from './support/provider-sinks.js';

const alert = {
  type: 'NUMBER_POOL_EMPTY',
  severity: 'HIGH' as const,
  resourceId: 'pool-us',
  title: 'No numbers left in the US pool',
  message: 'Onboarding is blocked.',
};

describe('SMS delivery confirmation through Twilio status callbacks', () => {
  let twilio: FakeTwilio;
  let slack: FakeSlack;
  let server: Server;
  let callbackUrl: string;
  let alerts: AlertService;
  let now = Date.parse('2026-03-01T03:00:00Z');
  const logger = captureLogger();

  beforeAll(async () => {
    [twilio, slack] = await Promise.all([startFakeTwilio(), startFakeSlack()]);
    const app = express();
    // Handler mounted before the app's own body parsers, on the path given to Twilio.
    app.post('/webhooks/twilio/alert-status', (req, res, next) =>
      expressTwilioStatusCallback({ alerts, authToken: twilio.authToken, publicUrl: callbackUrl, logger })(req, res, next),
    );
    app.use(express.urlencoded({ extended: false }));
    app.post('/parsed/alert-status', (req, res, next) => expressTwilioStatusCallback({ alerts, authToken: twilio.authToken, logger })(req, res, next));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    callbackUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/webhooks/twilio/alert-status`;
  });
  afterAll(async () => {
    await Promise.all([twilio.close(), slack.close()]);
    await new Promise((resolve) => server.close(resolve));
  });
  afterEach(async () => {
    await alerts?.close();
    twilio.messages.length = 0;
    slack.messages.length = 0;
    logger.lines.length = 0;
  });

  function service(to: string[] = ['+15551234567'], statusCallbackUrl = callbackUrl) {
    alerts = createAlertService({
      sinks: [...smsAndSlackSinks(twilio, slack, { to, statusCallbackUrl })],
      routes: { HIGH: ['sms'] },
      confirmTimeoutMs: 5 * 60_000,
      clock: { now: () => now },
      logger,
      maintenanceIntervalMs: false,
      retry: { initialDelayMs: 10, timeoutMs: 3000 },
    });
    return alerts;
  }

  it('"delivered" confirms the alert: recorded, no fallback, nothing left to time out', async () => {
    service();
    const result = await alerts.sendCriticalAlert(alert);
    expect(result.awaitingConfirmation).toEqual([twilio.messages[0]!.sid]);
    expect(twilio.messages[0]!.statusCallback).toBe(callbackUrl);

    expect((await twilio.sendStatus(twilio.messages[0]!.sid, 'sent')).status).toBe(204);
    const delivered = await twilio.sendStatus(twilio.messages[0]!.sid, 'delivered');
    expect(delivered.status).toBe(204);
    expect((await alerts.getAlertStats()).confirmed).toBe(1);
    now += 10 * 60_000;
    expect(await alerts.runMaintenance()).toMatchObject({ unconfirmed: 0 });
    expect(slack.messages).toHaveLength(0);
  });

  it('"undelivered" falls back to the next sink with an "ALERT NOT DELIVERED via sms" line, once per alert even with two numbers', async () => {
    service(['+15551234567', '+15557777777']);
    await alerts.sendCriticalAlert(alert);
    const [a, b] = twilio.messages;
    await twilio.sendStatus(a!.sid, 'undelivered', { errorCode: 30003 });
    await twilio.sendStatus(b!.sid, 'failed', { errorCode: 30006 });

    expect(slack.messages).toHaveLength(1);
    expect(slack.messages[0]!.text).toBe('[HIGH] NUMBER_POOL_EMPTY: No numbers left in the US pool (pool-us)');
    const lost = logger.lines.filter((l) => l.msg?.startsWith('ALERT NOT DELIVERED via sms'));
    expect(lost.map((l) => l.msg)).toEqual([
      'ALERT NOT DELIVERED via sms to +1********67: [HIGH] NUMBER_POOL_EMPTY: No numbers left in the US pool (sms message ' +
        a!.sid +
        ' not delivered: status undelivered (error 30003)); falling back',
      'ALERT NOT DELIVERED via sms to +1********77: [HIGH] NUMBER_POOL_EMPTY: No numbers left in the US pool (sms message ' +
        b!.sid +
        ' not delivered: status failed (error 30006)); falling back',
    ]);
    const history = await alerts.getAlertStats();
    expect(history.failed).toBe(2);
    expect(history.delivered).toBe(2); // the SMS send, then the Slack fallback
  });

  it('no receipt within the confirmation time counts as failed: the maintenance run falls back', async () => {
    service();
    await alerts.sendCriticalAlert(alert);
    now += 4 * 60_000;
    expect((await alerts.runMaintenance()).unconfirmed).toBe(0);
    now += 60_000;
    expect((await alerts.runMaintenance()).unconfirmed).toBe(1);
    expect(slack.messages).toHaveLength(1);
    expect(logger.lines.some((l) => l.msg?.includes('not delivered: no delivery receipt in time'))).toBe(true);
    // a late receipt changes nothing
    expect((await twilio.sendStatus(twilio.messages[0]!.sid, 'delivered')).status).toBe(204);
    expect((await alerts.runMaintenance()).unconfirmed).toBe(0);
    expect(slack.messages).toHaveLength(1);
  });

  it('refuses callbacks with a bad signature (403 problem+json) and works behind express.urlencoded()', async () => {
    service();
    await alerts.sendCriticalAlert(alert);
    const sid = twilio.messages[0]!.sid;
    const forged = await fetch(callbackUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'AAAA' },
      body: new URLSearchParams({ MessageSid: sid, MessageStatus: 'failed' }).toString(),
    });
    expect(forged.status).toBe(403);
    expect(forged.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await forged.json()).toMatchObject({ status: 403, title: 'Forbidden' });
    expect(slack.messages).toHaveLength(0);

    const parsedUrl = callbackUrl.replace('/webhooks/twilio/alert-status', '/parsed/alert-status');
    const viaParser = await twilio.sendStatus(sid, 'delivered', { url: parsedUrl });
    expect(viaParser.status).toBe(204);
    expect((await alerts.getAlertStats()).confirmed).toBe(1);
  });

  it('works with a Twilio that reports on its own (sent, then delivered)', async () => {
    const auto = await startFakeTwilio({ autoStatus: { statuses: ['sent', 'delivered'], delayMs: 10 } });
    const app = express();
    let url = '';
    app.post('/auto/alert-status', (req, res, next) =>
      expressTwilioStatusCallback({ alerts, authToken: auto.authToken, publicUrl: url, logger })(req, res, next),
    );
    const autoServer = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      url = `http://127.0.0.1:${(autoServer.address() as { port: number }).port}/auto/alert-status`;
      alerts = createAlertService({
        sinks: [createTwilioSmsSink({ client: auto.client(), from: '+15557654321', to: '+15551234567', statusCallbackUrl: url })],
        clock: { now: () => now },
        logger,
        maintenanceIntervalMs: false,
      });
      await alerts.sendCriticalAlert(alert);
      await auto.waitFor(() => auto.messages[0]?.status === 'delivered');
      const deadline = Date.now() + 5000;
      while ((await alerts.getAlertStats()).confirmed < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect((await alerts.getAlertStats()).confirmed).toBe(1);
    } finally {
      await new Promise((resolve) => autoServer.close(resolve));
      await auto.close();
    }
  });
});
