// The providers the app talks to, as local servers that speak their wire formats (see
// tools/test-support): the real `twilio`, `@slack/web-api` and `@sentry/node` SDKs inside
// the app send their real requests here.
import { randomBytes } from 'node:crypto';
import { startFakeSentry, startFakeSlack, startFakeTwilio, type FakeSentry, type FakeSlack, type FakeTwilio } from '@hardening/test-support';

/** Local provider servers and the credentials the app is configured with. */
export interface Providers {
  readonly twilio: FakeTwilio;
  readonly slack: FakeSlack;
  /** Only when asked for (Sentry's SDK is process-wide: one DSN per process). */
  readonly sentry: FakeSentry | undefined;
  readonly slackSigningSecret: string;
  readonly slackAlertsChannel: string;
  readonly stripeWebhookSecret: string;
  /** Environment variables pointing the app at these servers. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

/** Starts fake Twilio and Slack (and Sentry with `sentry: true`). */
export async function startProviders(options: { sentry?: boolean } = {}): Promise<Providers> {
  const [twilio, slack, sentry] = await Promise.all([startFakeTwilio(), startFakeSlack(), options.sentry ? startFakeSentry() : Promise.resolve(undefined)]);
  const slackSigningSecret = randomBytes(16).toString('hex');
  const stripeWebhookSecret = `whsec_${randomBytes(24).toString('base64url')}`;
  const slackAlertsChannel = '#ops-alerts';
  return {
    twilio,
    slack,
    sentry,
    slackSigningSecret,
    slackAlertsChannel,
    stripeWebhookSecret,
    env: () => ({
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_API_BASE_URL: twilio.url,
      SLACK_SIGNING_SECRET: slackSigningSecret,
      SLACK_BOT_TOKEN: 'xoxb-e2e-bot-token',
      SLACK_ALERTS_CHANNEL: slackAlertsChannel,
      SLACK_API_URL: slack.apiUrl,
      STRIPE_WEBHOOK_SECRET: stripeWebhookSecret,
      ...(sentry === undefined ? {} : { SENTRY_DSN: sentry.dsn }),
    }),
    close: async () => {
      await Promise.all([twilio.close(), slack.close(), sentry?.close()]);
    },
  };
}
