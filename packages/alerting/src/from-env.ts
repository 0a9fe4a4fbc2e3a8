import type { Logger } from '@hardening/core';
import { consoleLogger } from '@hardening/core';
import type { AlertServiceOptions } from './alert-service-options.js';
import { AlertService } from './alert-service.js';
import { initSentryFromEnv } from './reporting/sentry-init.js';
import type { RouteTable } from './routing.js';
import type { SentryLike } from './sinks/sentry-sink.js';
import { createSentrySink } from './sinks/sentry-sink.js';
import type { AlertSink } from './sinks/sink.js';
import type { SlackChatClient } from './sinks/slack-sink.js';
import { createSlackSink } from './sinks/slack-sink.js';
import type { TwilioMessagesClient } from './sinks/twilio-sms-sink.js';
import { createTwilioSmsSink } from './sinks/twilio-sms-sink.js';
import { createPagerDutySink } from './sinks/pagerduty-sink.js';
import { createWebhookSink } from './sinks/webhook-sink.js';
import { parseOnCallNumbers } from './sinks/phone-numbers.js';

/**
 * Options for {@link createAlertServiceFromEnv}: every {@link AlertServiceOptions} field
 * but `sinks` (built from the environment), plus ready-made SDK clients.
 *
 * @example
 * ```ts
 * import type { AlertsFromEnvOptions } from '@hardening/alerting';
 * const options: AlertsFromEnvOptions = { store, logger, types: { CLIENT_STUCK: { groupWaitMs: 30_000 } } };
 * ```
 */
export interface AlertsFromEnvOptions extends Omit<AlertServiceOptions, 'sinks'> {
  /**
   * SDK clients to use instead of creating them (your own configured clients, or clients
   * pointed at test servers). Missing ones are created from the environment with the
   * optional peer dependencies `twilio`, `@slack/web-api`, `@sentry/node`.
   */
  readonly clients?: {
    readonly twilio?: TwilioMessagesClient;
    readonly slack?: SlackChatClient;
    readonly sentry?: SentryLike;
  };
  /** More sinks, after the ones from the environment. */
  readonly extraSinks?: readonly AlertSink[];
}

type Env = Readonly<Record<string, string | undefined>>;

const set = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

function missing(names: readonly string[], because: string): never {
  throw new TypeError(`Alerting configuration: ${because} needs ${names.join(' and ')} to be set.`);
}

async function loadModule<T>(name: string, purpose: string): Promise<T> {
  try {
    const mod = (await import(name)) as { default?: unknown };
    return (mod.default ?? mod) as T;
  } catch (error) {
    throw new TypeError(`Alerting configuration: ${purpose} needs the ${name} package (npm install ${name}): ${(error as Error).message}`);
  }
}

function routesFromEnv(env: Env): RouteTable | undefined {
  const routes: Record<string, string[]> = {};
  for (const severity of ['HIGH', 'MEDIUM', 'LOW'] as const) {
    const value = env[`ALERT_ROUTE_${severity}`];
    if (set(value))
      routes[severity] = value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
  }
  return Object.keys(routes).length > 0 ? routes : undefined;
}

/**
 * One vocabulary for configuration: the reference app's former names, read as deprecated
 * aliases of the package's (with a warning) when the package's name is not set.
 *
 * @example
 * ```ts
 * import { deprecatedEnvAliases } from '@hardening/alerting';
 * console.log(deprecatedEnvAliases.ADMIN_PHONE); // 'ALERT_SMS_TO'
 * ```
 */
export const deprecatedEnvAliases: Readonly<Record<string, string>> = Object.freeze({
  ADMIN_PHONE: 'ALERT_SMS_TO',
  SLACK_ALERTS_CHANNEL: 'SLACK_ALERT_CHANNEL',
  TWILIO_NUMBER: 'TWILIO_FROM_NUMBER',
});

function withAliases(env: Env, logger: Logger): Env {
  let out: Record<string, string | undefined> | undefined;
  for (const [alias, name] of Object.entries(deprecatedEnvAliases)) {
    if (env[name] !== undefined && env[name] !== '') continue;
    const value = env[alias];
    if (value === undefined || value === '') continue;
    out ??= { ...env };
    out[name] = value;
    logger.warn({ variable: alias, use: name }, `${alias} is deprecated for alerting: set ${name} instead (read as ${name} for now)`);
  }
  return out ?? env;
}

/**
 * Builds an {@link AlertService} from environment variables (a 12-factor set-up), creating
 * each sink whose variables are set:
 *
 * | sink | variables |
 * | --- | --- |
 * | `sms` | `ALERT_SMS_TO` (E.164, comma-separated), `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN`, `TWILIO_FROM_NUMBER` or `TWILIO_MESSAGING_SERVICE_SID`, optional `ALERT_SMS_STATUS_CALLBACK_URL`, optional `ALERT_SMS_ACK_HINT` (`true`: end alert SMS with "Reply ACK <code>") |
 * | `slack` | `SLACK_BOT_TOKEN`, `SLACK_ALERT_CHANNEL`, optional `SLACK_API_URL` |
 * | `sentry` | `SENTRY_DSN` (Sentry is initialised, scrubbed, unless it already is) |
 * | `pagerduty` | `PAGERDUTY_ROUTING_KEY`, optional `PAGERDUTY_EVENTS_URL` |
 * | `webhook` | `ALERT_WEBHOOK_URL` |
 *
 * Also `ALERTS_DISABLED`, and `ALERT_ROUTE_HIGH` / `_MEDIUM` / `_LOW` (comma-separated
 * sink names). A half-configured sink (a number but no Twilio credentials) throws at
 * start-up, naming what is missing. Only `ALERT_SMS_TO` and `SLACK_ALERT_CHANNEL` switch
 * the SMS and Slack sinks on: Twilio or Slack credentials used for other things do not.
 *
 * @param options - See {@link AlertsFromEnvOptions}.
 * @returns The service.
 * @throws TypeError naming the missing or malformed variable.
 * @example
 * ```ts
 * import { createAlertServiceFromEnv, createRedisAlertStore } from '@hardening/alerting';
 * const alerts = await createAlertServiceFromEnv({ store: createRedisAlertStore({ redis }) });
 * ```
 */
export async function createAlertServiceFromEnv(options: AlertsFromEnvOptions = {}): Promise<AlertService> {
  const { clients = {}, extraSinks = [], ...serviceOptions } = options;
  const env: Env = withAliases(options.env ?? process.env, serviceOptions.logger ?? consoleLogger({ component: 'alerting' }));
  const sinks: AlertSink[] = [];

  const smsVars = ['ALERT_SMS_TO', 'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'];
  // Triggered by the alert-specific variables only: an app may use Twilio and Slack for
  // other things without wanting alerts there.
  if (set(env.ALERT_SMS_TO)) {
    const absent = (clients.twilio !== undefined ? ['ALERT_SMS_TO'] : smsVars).filter((name) => !set(env[name]));
    if (!set(env.TWILIO_FROM_NUMBER) && !set(env.TWILIO_MESSAGING_SERVICE_SID)) absent.push('TWILIO_FROM_NUMBER (or TWILIO_MESSAGING_SERVICE_SID)');
    if (absent.length > 0) missing(absent, 'SMS alerts');
    parseOnCallNumbers(env.ALERT_SMS_TO, 'ALERT_SMS_TO');
    let client = clients.twilio;
    if (client === undefined) {
      const twilio = await loadModule<(sid: string, token: string) => TwilioMessagesClient>('twilio', 'SMS alerts');
      client = twilio(env.TWILIO_ACCOUNT_SID!, env.TWILIO_AUTH_TOKEN!);
    }
    sinks.push(
      createTwilioSmsSink({
        client,
        to: env.ALERT_SMS_TO,
        ...(set(env.TWILIO_MESSAGING_SERVICE_SID) ? { messagingServiceSid: env.TWILIO_MESSAGING_SERVICE_SID } : { from: env.TWILIO_FROM_NUMBER }),
        ...(set(env.ALERT_SMS_STATUS_CALLBACK_URL) ? { statusCallbackUrl: env.ALERT_SMS_STATUS_CALLBACK_URL } : {}),
        ackHint: /^(1|true|yes|on)$/i.test(env.ALERT_SMS_ACK_HINT?.trim() ?? ''),
      }),
    );
  }

  if (set(env.SLACK_ALERT_CHANNEL)) {
    const absent = ['SLACK_ALERT_CHANNEL', ...(clients.slack !== undefined ? [] : ['SLACK_BOT_TOKEN'])].filter((name) => !set(env[name]));
    if (absent.length > 0) missing(absent, 'Slack alerts');
    let client = clients.slack;
    if (client === undefined) {
      const { WebClient } = await loadModule<{ WebClient: new (token: string, options: Record<string, unknown>) => SlackChatClient }>(
        '@slack/web-api',
        'Slack alerts',
      );
      // No SDK retries: safeCall retries in seconds and falls back; the SDK's default retries for 30 minutes.
      client = new WebClient(env.SLACK_BOT_TOKEN!, {
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
        ...(set(env.SLACK_API_URL) ? { slackApiUrl: env.SLACK_API_URL } : {}),
      });
    }
    sinks.push(createSlackSink({ client, channel: env.SLACK_ALERT_CHANNEL.trim() }));
  }

  if (set(env.SENTRY_DSN)) {
    const sentry = clients.sentry ?? (await loadModule<SentryLike & { init(options: Record<string, unknown>): unknown }>('@sentry/node', 'Sentry alerts'));
    if (sentry.getClient?.() === undefined && 'init' in sentry) initSentryFromEnv({ sentry: sentry as never, env });
    sinks.push(createSentrySink({ sentry }));
  }

  if (set(env.PAGERDUTY_ROUTING_KEY)) {
    sinks.push(
      createPagerDutySink({ routingKey: env.PAGERDUTY_ROUTING_KEY.trim(), ...(set(env.PAGERDUTY_EVENTS_URL) ? { url: env.PAGERDUTY_EVENTS_URL } : {}) }),
    );
  }
  if (set(env.ALERT_WEBHOOK_URL)) sinks.push(createWebhookSink({ url: env.ALERT_WEBHOOK_URL.trim() }));

  return new AlertService({
    ...serviceOptions,
    env,
    routes: serviceOptions.routes ?? routesFromEnv(env),
    sinks: [...sinks, ...extraSinks],
  });
}
