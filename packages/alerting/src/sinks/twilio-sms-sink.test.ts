import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTwilio, type FakeTwilio } from '@hardening/test-support';
import { createAlertService } from '../alert-service.js';
import { captureLogger } from '../../test/support/capture-logger.js';
import { createTwilioSmsSink } from './twilio-sms-sink.js';

const fast = { initialDelayMs: 10, timeoutMs: 3000 };
const alert = {
  type: 'PAYMENT_WEBHOOK_FAILING',
  severity: 'HIGH' as const,
  resourceId: 'client_42',
  title: 'Stripe webhooks failing for Acme Plumbing',
  message: 'Customer +15559876543 got no reply; owner is bob@example.com',
};

describe('Twilio SMS sink (real twilio SDK against a fake Messages API)', () => {
  let twilio: FakeTwilio;
  beforeAll(async () => {
    twilio = await startFakeTwilio();
  });
  afterAll(() => twilio.close());
  afterEach(() => {
    twilio.clearRequests();
    twilio.messages.length = 0;
    twilio.clearFaults();
  });

  it('texts every on-call number: Basic auth, form body with To, From, Body, StatusCallback', async () => {
    const sms = createTwilioSmsSink({
      client: twilio.client(),
      from: '+15557654321',
      to: '+15551234567, +447911123456',
      statusCallbackUrl: 'https://app.example.com/webhooks/twilio/alert-status',
    });
    const alerts = createAlertService({ sinks: [sms], logger: captureLogger(), retry: fast, maintenanceIntervalMs: false });
    const result = await alerts.sendCriticalAlert(alert);

    expect(result.status).toBe('delivered');
    expect(result.deliveredTo).toEqual(['sms']);
    expect(result.awaitingConfirmation).toHaveLength(2);
    const posts = twilio.requests.filter((r) => r.method === 'POST');
    expect(posts.map((r) => r.path)).toEqual([
      `/2010-04-01/Accounts/${twilio.accountSid}/Messages.json`,
      `/2010-04-01/Accounts/${twilio.accountSid}/Messages.json`,
    ]);
    const credentials = Buffer.from(`${twilio.accountSid}:${twilio.authToken}`).toString('base64');
    expect(posts[0]!.headers.authorization).toBe(`Basic ${credentials}`);
    const bodies = posts.map((r) => r.body as Record<string, string>);
    expect(bodies.map((b) => b.To).sort()).toEqual(['+15551234567', '+447911123456']);
    for (const body of bodies) {
      expect(body.From).toBe('+15557654321');
      expect(body.StatusCallback).toBe('https://app.example.com/webhooks/twilio/alert-status');
      expect(body.Body).toBe(
        '[HIGH] PAYMENT_WEBHOOK_FAILING: Stripe webhooks failing for Acme Plumbing\nResource: client_42\nCustomer +1********43 got no reply; owner is [email]',
      );
    }
    expect(result.awaitingConfirmation).toEqual(expect.arrayContaining(twilio.messages.map((m) => m.sid)));
    await alerts.close();
  });

  it('rejects invalid on-call numbers at configuration time, without echoing them', () => {
    const client = twilio.client();
    expect(() => createTwilioSmsSink({ client, from: '+15557654321', to: ['+15551234567', '555-123-4567'] })).toThrow(/entry 2 is not \(5\*+67\)/);
    expect(() => createTwilioSmsSink({ client, from: '+15557654321', to: '+1 555 123 4567' })).toThrow(TypeError);
    expect(() => createTwilioSmsSink({ client, from: '+15557654321', to: [] })).toThrow(/one or more E\.164/);
    expect(() => createTwilioSmsSink({ client, to: '+15551234567' })).toThrow(/`from`.*or `messagingServiceSid`/);
    expect(() => createTwilioSmsSink({ client, from: 'not a sender!', to: '+15551234567' })).toThrow(/alphanumeric sender id/);
    expect(() => createTwilioSmsSink({ client: {} as never, from: '+15557654321', to: '+15551234567' })).toThrow(/twilio client/);
    try {
      createTwilioSmsSink({ client, from: '+15557654321', to: ['+1555123456789012345'] });
    } catch (error) {
      expect((error as Error).message).not.toContain('555123456789012345');
    }
  });

  it('sends through a Messaging Service when given one', async () => {
    const messagingServiceSid = `MG${'a'.repeat(32)}`;
    const sms = createTwilioSmsSink({ client: twilio.client(), messagingServiceSid, to: '+15551234567' });
    const alerts = createAlertService({ sinks: [sms], logger: captureLogger(), retry: fast, maintenanceIntervalMs: false });
    expect((await alerts.sendCriticalAlert(alert)).status).toBe('delivered');
    const body = twilio.requests[0]!.body as Record<string, string>;
    expect(body.MessagingServiceSid).toBe(messagingServiceSid);
    expect(body.From).toBeUndefined();
    expect(body.StatusCallback).toBeUndefined();
    await alerts.close();
  });

  it('retries a 503 without texting a number twice: only the number not reached yet is retried', async () => {
    const sms = createTwilioSmsSink({ client: twilio.client(), from: '+15557654321', to: ['+15551234567', '+15557777777'] });
    const alerts = createAlertService({ sinks: [sms], logger: captureLogger(), retry: fast, maintenanceIntervalMs: false });
    twilio.fail({ status: 503, match: (r) => (r.body as Record<string, string>).To === '+15557777777' });
    const result = await alerts.sendCriticalAlert(alert);

    expect(result.status).toBe('delivered');
    const toFirst = twilio.requests.filter((r) => (r.body as Record<string, string>).To === '+15551234567');
    const toSecond = twilio.requests.filter((r) => (r.body as Record<string, string>).To === '+15557777777');
    expect(toFirst).toHaveLength(1);
    expect(toSecond.map((r) => r.status)).toEqual([503, 201]);
    expect(twilio.messages.map((m) => m.to).sort()).toEqual(['+15551234567', '+15557777777']);
    await alerts.close();
  });

  it('counts the delivery when one number is refused for good (400) and another was reached, with a masked warning', async () => {
    const logger = captureLogger();
    const sms = createTwilioSmsSink({ client: twilio.client(), from: '+15557654321', to: ['+15551234567', '+15557777777'] });
    const alerts = createAlertService({ sinks: [sms], logger, retry: fast, maintenanceIntervalMs: false });
    twilio.fail({
      status: 400,
      body: { code: 21610, message: 'Attempt to send to unsubscribed recipient', status: 400 },
      match: (r) => (r.body as Record<string, string>).To === '+15557777777',
    });
    const result = await alerts.sendCriticalAlert(alert);
    expect(result.status).toBe('delivered');
    expect(twilio.messages.map((m) => m.to)).toEqual(['+15551234567']);
    const warning = logger.lines.find((l) => l.level === 'warn' && l.msg?.includes('refused'));
    expect(warning?.msg).toBe('SMS to +1********77 refused: HTTP 400, code 21610');
    expect(logger.text()).not.toContain('5557777777');
    await alerts.close();
  });

  it('cuts long alerts to the configured length on a word boundary', async () => {
    const sms = createTwilioSmsSink({ client: twilio.client(), from: '+15557654321', to: '+15551234567', maxLength: 80 });
    const alerts = createAlertService({ sinks: [sms], logger: captureLogger(), retry: fast, maintenanceIntervalMs: false });
    await alerts.sendCriticalAlert({ ...alert, message: 'word '.repeat(100) });
    const body = twilio.messages[0]!.body;
    expect(body.length).toBeLessThanOrEqual(80);
    expect(body.endsWith('...')).toBe(true);
    await alerts.close();
  });
});
