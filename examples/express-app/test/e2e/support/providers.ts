// The providers the app talks to, as local servers that speak their wire formats (see
// tools/test-support): the real `twilio`, `@slack/web-api` and `@sentry/node` SDKs inside
// the app send their real requests here.
import { randomBytes } from 'node:crypto';
import {
  startFakeHttpServer,
  startFakeSentry,
  startFakeSlack,
  startFakeTwilio,
  type FakeHttpServer,
  type FakeSentry,
  type FakeSlack,
  type FakeTwilio,
  type RecordedRequest,
} from '@hardening/test-support';

/** Passes `request` on to `target` and hands back its answer. */
async function forward(target: string, request: RecordedRequest) {
  const response = await fetch(`${target}${request.url}`, {
    method: request.method,
    headers: Object.fromEntries(
      Object.entries(request.headers).filter(
        ([name, v]) => typeof v === 'string' && !['host', 'content-length', 'connection', 'content-encoding'].includes(name),
      ),
    ) as Record<string, string>,
    ...(request.method === 'GET' || request.method === 'HEAD' ? {} : { body: request.rawBody }),
  });
  const headers: Record<string, string> = { 'Content-Type': response.headers.get('content-type') ?? 'application/json' };
  const retryAfter = response.headers.get('retry-after');
  if (retryAfter !== null) headers['Retry-After'] = retryAfter;
  return { status: response.status, body: await response.text(), headers };
}

/** Local provider servers and the credentials the app is configured with. */
export interface Providers {
  readonly twilio: FakeTwilio;
  /**
   * What the app's TWILIO_API_BASE_URL points at: passes every request to the fake Twilio,
   * and can lose answers after Twilio acted on the request (the "unknown outcome" of a send).
   */
  readonly twilioFront: FakeHttpServer & {
    /** The next `times` requests matching `match` reach Twilio, and their answers never come back. */
    loseAnswers(times: number, match?: (request: RecordedRequest) => boolean): void;
  };
  readonly slack: FakeSlack;
  /**
   * What the app's SLACK_API_URL points at: the fake Slack, plus `chat.getPermalink` (which
   * the shared fake does not speak) answered the way Slack does.
   */
  readonly slackFront: FakeHttpServer;
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
  const lost: Array<{ left: number; match: ((request: RecordedRequest) => boolean) | undefined }> = [];
  const twilioServer = await startFakeHttpServer({
    route: async (request) => {
      const answer = await forward(twilio.url, request);
      const rule = lost.find((l) => l.left > 0 && (l.match === undefined || l.match(request)));
      if (rule !== undefined) {
        rule.left--;
        // Twilio acted; the answer is lost on the way back (the socket stays silent until closed).
        return new Promise<never>(() => {});
      }
      return answer;
    },
  });
  const twilioFront = Object.assign(twilioServer, {
    loseAnswers: (times: number, match?: (request: RecordedRequest) => boolean) => void lost.push({ left: times, match }),
  });
  const slackFront = await startFakeHttpServer({
    route: async (request) => {
      if (request.path === '/api/chat.getPermalink') {
        const args = new URLSearchParams(request.rawBody.toString('utf8'));
        const channel = args.get('channel') ?? '';
        const ts = args.get('message_ts') ?? '';
        if (channel === '' || ts === '') return { status: 200, body: { ok: false, error: 'invalid_arguments' } };
        return { status: 200, body: { ok: true, channel, permalink: `https://fake.slack.com/archives/${channel}/p${ts.replace('.', '')}` } };
      }
      return forward(slack.url, request);
    },
  });
  return {
    twilio,
    twilioFront,
    slack,
    slackFront,
    sentry,
    slackSigningSecret,
    slackAlertsChannel,
    stripeWebhookSecret,
    env: () => ({
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_API_BASE_URL: twilioFront.url,
      SLACK_SIGNING_SECRET: slackSigningSecret,
      SLACK_BOT_TOKEN: 'xoxb-e2e-bot-token',
      SLACK_ALERT_CHANNEL: slackAlertsChannel,
      SLACK_API_URL: `${slackFront.url}/api/`,
      STRIPE_WEBHOOK_SECRET: stripeWebhookSecret,
      ...(sentry === undefined ? {} : { SENTRY_DSN: sentry.dsn }),
    }),
    close: async () => {
      await Promise.all([twilio.close(), twilioFront.close(), slack.close(), slackFront.close(), sentry?.close()]);
    },
  };
}
