// The SMS and Slack sinks of the provider tests, and the fakes and shared store of a fleet: the real twilio and Slack SDKs pointed at the
// local fake providers, with the Slack SDK's own retries off (the sink's safeCall retries).
import { WebClient } from '@slack/web-api';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startFakeSlack, startFakeTwilio, type FakeSlack, type FakeTwilio } from '@hardening/test-support';
import { createSlackSink, createTwilioSmsSink, type AlertService, type AlertSink, type AlertStore, type TwilioSmsSinkOptions } from '../../src/index.js';
import { openSharedStore, type SharedStore } from './shared-store.js';

/** The on-call number the SMS sink texts (a fake: the fake Twilio never sends it anywhere). */
export const onCallNumber = '+15551234567';

/**
 * An SMS sink (from +15557654321 to {@link onCallNumber}) on the fake Twilio, and a Slack sink
 * (`#alerts`, no minimum interval) on the fake Slack.
 *
 * @param twilio - The fake Twilio.
 * @param slack - The fake Slack.
 * @param sms - More options of the SMS sink (`to`, `statusCallbackUrl`...).
 * @returns `[sms, slack]`.
 */
export function smsAndSlackSinks(twilio: FakeTwilio, slack: FakeSlack, sms: Partial<TwilioSmsSinkOptions> = {}): [AlertSink, AlertSink] {
  return [
    createTwilioSmsSink({ client: twilio.client(), from: '+15557654321', to: onCallNumber, ...sms }),
    createSlackSink({
      client: new WebClient('xoxb-t', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true }),
      channel: '#alerts',
      minIntervalMs: 0,
    }),
  ];
}

/** The fakes and the store a describe's alert services share (see {@link useProviderFleet}). */
export interface ProviderFleet {
  readonly twilio: FakeTwilio;
  readonly slack: FakeSlack;
  readonly store: AlertStore;
  /** Services started by the test: closed after it. */
  readonly started: AlertService[];
}

/**
 * Registers a describe's hooks: a fake Twilio, a fake Slack and a shared store of `kind`
 * before all tests (closed after all); after each test, its services closed and the
 * fakes' faults, requests and messages cleared.
 *
 * @param kind - The shared store's backend.
 * @param label - Names the store's prefix or schema.
 * @returns The fleet's parts, filled in before the first test runs.
 */
export function useProviderFleet(kind: 'redis' | 'postgres', label: string): ProviderFleet {
  const fleet = { started: [] as AlertService[] } as { twilio: FakeTwilio; slack: FakeSlack; store: AlertStore; started: AlertService[] };
  let shared: SharedStore;
  beforeAll(async () => {
    [fleet.twilio, fleet.slack, shared] = await Promise.all([startFakeTwilio(), startFakeSlack(), openSharedStore(kind, label)]);
    fleet.store = shared.store;
  });
  afterAll(async () => {
    await Promise.all([fleet.twilio.close(), fleet.slack.close(), shared.close()]);
  });
  afterEach(async () => {
    await Promise.all(fleet.started.splice(0).map((s) => s.close()));
    for (const fake of [fleet.twilio, fleet.slack]) {
      fake.clearFaults();
      fake.clearRequests();
    }
    fleet.twilio.messages.length = 0;
    fleet.slack.messages.length = 0;
  });
  return fleet;
}
