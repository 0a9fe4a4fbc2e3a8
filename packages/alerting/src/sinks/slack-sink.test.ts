import { WebClient } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack } from '@hardening/test-support';
import { createAlertService } from '../alert-service.js';
import { captureLogger } from '../../test/support/capture-logger.js';
import { createSlackSink } from './slack-sink.js';

const fast = { initialDelayMs: 10, timeoutMs: 5000 };
const alert = {
  type: 'CLIENT_STUCK',
  severity: 'MEDIUM' as const,
  resourceId: 'client_7',
  title: 'Onboarding stuck in NUMBER_PROVISIONING',
  message: 'Stuck for 3 h. Owner <mario@example.com> called from +15559876543 & waits.',
  context: { state: 'NUMBER_PROVISIONING', attempts: 4, token: 'xoxb-1234567890-abcdef' },
  links: [{ text: 'Open client', url: 'https://admin.example.com/clients/7' }],
};

function client(fake: FakeSlack) {
  return new WebClient('xoxb-test-token', { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
}

describe('Slack sink (real @slack/web-api against a fake Web API)', () => {
  let slack: FakeSlack;
  beforeAll(async () => {
    slack = await startFakeSlack();
  });
  afterAll(() => slack.close());
  afterEach(() => {
    slack.clearRequests();
    slack.messages.length = 0;
    slack.clearFaults();
  });

  it('posts chat.postMessage with readable, scrubbed blocks: severity, title, resource, message, context, links', async () => {
    const sink = createSlackSink({ client: client(slack), channel: '#alerts', mention: { MEDIUM: '<!here>' }, minIntervalMs: 0 });
    const alerts = createAlertService({ sinks: [sink], logger: captureLogger(), retry: fast, maintenanceIntervalMs: false });
    const result = await alerts.sendCriticalAlert(alert);
    expect(result).toMatchObject({ status: 'delivered', deliveredTo: ['slack'] });

    const request = slack.requests[0]!;
    expect(request.path).toBe('/api/chat.postMessage');
    expect(request.headers.authorization).toBe('Bearer xoxb-test-token');
    const message = slack.messages[0]!;
    expect(message.channel).toBe('#alerts');
    expect(message.text).toBe('<!here> [MEDIUM] CLIENT_STUCK: Onboarding stuck in NUMBER_PROVISIONING (client_7)');
    const blocks = message.blocks as Array<{ type: string; text: { text: string }; fields: Array<{ text: string }>; elements: Array<Record<string, unknown>> }>;
    const field = (block: number, index: number) => blocks[block]!.fields[index]!.text;
    expect(blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'section', 'actions', 'context']);
    expect(blocks[0]!.text.text).toBe(':warning: [MEDIUM] Onboarding stuck in NUMBER_PROVISIONING');
    expect(blocks[1]!.fields.map((f: { text: string }) => f.text.split('\n')[0])).toEqual(['*Severity*', '*Type*', '*Resource*', '*Raised*']);
    expect(field(1, 2)).toBe('*Resource*\nclient_7');
    expect(blocks[2]!.text.text).toBe('<!here> Stuck for 3 h. Owner &lt;[email]&gt; called from +1********43 &amp; waits.');
    expect(blocks[3]!.fields.map((f: { text: string }) => f.text)).toEqual(['*state*\nNUMBER_PROVISIONING', '*attempts*\n4', '*token*\n[redacted]']);
    expect(blocks[4]!.elements[0]).toMatchObject({ type: 'button', url: 'https://admin.example.com/clients/7', text: { text: 'Open client' } });
    expect(JSON.stringify(message.args)).not.toMatch(/mario@|5559876543|xoxb-1234567890/);
    expect(message.args.unfurl_links).toBe('false');
    await alerts.close();
  });

  it('honours a 429 Retry-After, then delivers', async () => {
    const sink = createSlackSink({ client: client(slack), channel: '#alerts', minIntervalMs: 0 });
    const alerts = createAlertService({ sinks: [sink], logger: captureLogger(), retry: fast, maintenanceIntervalMs: false });
    slack.rateLimit(1);
    const result = await alerts.sendCriticalAlert(alert);
    expect(result.status).toBe('delivered');
    expect(slack.requests.map((r) => r.status)).toEqual([429, 200]);
    const waited = slack.requests[1]!.receivedAt - slack.requests[0]!.receivedAt;
    expect(waited).toBeGreaterThanOrEqual(950); // Retry-After: 1, although the backoff says 10 ms
    await alerts.close();
  });

  it('fails at once on a permanent Slack error (channel_not_found) and falls back', async () => {
    const logger = captureLogger();
    const sink = createSlackSink({ client: client(slack), channel: '#alerts', minIntervalMs: 0 });
    const alerts = createAlertService({ sinks: [sink], logger, retry: fast, maintenanceIntervalMs: false });
    slack.failMethod('chat.postMessage', 'channel_not_found');
    const result = await alerts.sendCriticalAlert(alert);
    expect(result).toMatchObject({ status: 'failed', deliveredTo: ['log'], failedSinks: ['slack'], fellBack: true });
    expect(slack.requests).toHaveLength(1);
    const lost = logger.lines.find((l) => l.msg?.startsWith('ALERT NOT DELIVERED via slack'));
    expect(lost?.msg).toContain('Slack answered channel_not_found');
    await alerts.close();
  });

  it('spaces posts so a burst stays under Slack’s one message per second per channel', async () => {
    const strict = await startFakeSlack({ enforcePostMessageRateLimit: true });
    try {
      const sink = createSlackSink({ client: client(strict), channel: '#alerts', minIntervalMs: 1000 });
      const alerts = createAlertService({ sinks: [sink], logger: captureLogger(), retry: fast, maintenanceIntervalMs: false });
      const results = await Promise.all([1, 2, 3].map((n) => alerts.sendCriticalAlert({ ...alert, resourceId: `client_${n}` })));
      expect(results.map((r) => r.status)).toEqual(['delivered', 'delivered', 'delivered']);
      expect(strict.requests.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(strict.messages).toHaveLength(3);
      await alerts.close();
    } finally {
      await strict.close();
    }
  });

  it('warns at start-up about a WebClient that retries on its own for half an hour', () => {
    const logger = captureLogger();
    const sink = createSlackSink({ client: new WebClient('xoxb-x', { slackApiUrl: slack.apiUrl }), channel: '#alerts' });
    createAlertService({ sinks: [sink], logger, maintenanceIntervalMs: false });
    expect(logger.lines.some((l) => l.level === 'warn' && l.msg?.includes('retryConfig: { retries: 0 }'))).toBe(true);
  });

  it('rejects a bad channel or client at configuration time', () => {
    expect(() => createSlackSink({ client: client(slack), channel: 'alerts' })).toThrow(/channel id \(C0123ABC\) or #name/);
    expect(() => createSlackSink({ client: {} as never, channel: '#alerts' })).toThrow(/WebClient/);
    expect(() => createSlackSink({ client: client(slack), channel: '#alerts', minIntervalMs: -1 })).toThrow(/minIntervalMs/);
  });
});
