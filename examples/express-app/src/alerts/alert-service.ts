import type { WebClient } from '@slack/web-api';
import type { BreakerRegistry } from '@hardening/circuit-breaker';
import type { Logger } from '@hardening/core';
import { createAlertServiceFromEnv, createPrismaAlertStore, createRedisAlertStore, type AlertService } from '@hardening/alerting';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import type { Db } from '../db/database.js';
import type { Metrics } from '../metrics.js';
import type { TwilioClient } from '../providers/twilio-client.js';

/** Where Twilio posts delivery receipts for alert SMS. */
export const alertStatusPath = '/api/twilio/alert-status';

/**
 * The app's alert service: HIGH alerts to every number of ALERT_SMS_TO by SMS (from
 * TWILIO_FROM_NUMBER, with delivery receipts) and to SLACK_ALERT_CHANNEL, MEDIUM to Slack (by SMS when Slack is not
 * configured: the alerting default routing falls back to the first remote sink), LOW to the log; Sentry
 * when SENTRY_DSN is set. Dedup claims live in Redis when configured, else in the
 * database (which then also owns history, pending pages and silences), so several instances
 * send one alert. ALERTS_DISABLED switches it off with a
 * banner and a degraded health status.
 */
export async function createAppAlertService(input: {
  config: Config;
  logger: Logger;
  registry: BreakerRegistry;
  metrics: Metrics;
  db: Db;
  redis: Redis | undefined;
  twilio: TwilioClient | undefined;
  slack: WebClient | undefined;
}): Promise<AlertService> {
  const { config, logger, registry, metrics, db, redis, twilio, slack } = input;
  const { env } = config;
  // The same variable names as @hardening/alerting (validated and normalised by the app's
  // schema, deprecated aliases already resolved by loadConfig); credentials come from the
  // app's configuration so the package sees only what the app accepted.
  const alertEnv: Record<string, string | undefined> = {
    ALERTS_DISABLED: env.ALERTS_DISABLED ? 'true' : undefined,
    SENTRY_DSN: env.SENTRY_DSN,
  };
  if (config.operatorPhones.length > 0 && twilio !== undefined && config.twilio !== undefined) {
    Object.assign(alertEnv, {
      ALERT_SMS_TO: config.operatorPhones.join(','),
      TWILIO_ACCOUNT_SID: config.twilio.accountSid,
      TWILIO_AUTH_TOKEN: config.twilio.authToken,
      TWILIO_FROM_NUMBER: config.systemNumber,
      ALERT_SMS_STATUS_CALLBACK_URL: env.PUBLIC_BASE_URL === undefined ? undefined : `${env.PUBLIC_BASE_URL.replace(/\/+$/, '')}${alertStatusPath}`,
      // The operator's reply "ACK <code>" reaches the system number's SMS webhook, which
      // acknowledges the alert (src/ingest/processed-sms.ts).
      ALERT_SMS_ACK_HINT: 'true',
    });
  }
  if (config.slack.channel !== undefined && slack !== undefined) {
    Object.assign(alertEnv, { SLACK_ALERT_CHANNEL: config.slack.channel, SLACK_BOT_TOKEN: config.slack.botToken });
  }
  return createAlertServiceFromEnv({
    env: alertEnv,
    clients: { ...(twilio === undefined ? {} : { twilio }), ...(slack === undefined ? {} : { slack }) },
    store: redis === undefined ? createPrismaAlertStore({ prisma: db }) : createRedisAlertStore({ redis, prefix: `${env.REDIS_KEY_PREFIX}:alerts` }),
    // With Redis for claims, the database owns history, pending pages, receipts and
    // silences (they survive a Redis restart) and takes the claims while Redis is down.
    ...(redis === undefined ? {} : { durableStore: createPrismaAlertStore({ prisma: db }) }),
    logger,
    registry,
    onResult: ({ result }) => metrics.alerts.inc({ outcome: result.status }),
  });
}
