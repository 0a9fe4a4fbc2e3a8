import { randomBytes } from 'node:crypto';
import { validateEnv } from '@hardening/health';
import type { DeliverabilityOptions } from '../domain/deliverability/policy.js';
import { blameDeprecatedNames, resolveDeprecatedEnv, type EnvDeprecation } from './deprecated-env.js';
import { envSchema, requiredInProduction, type Env } from './env-schema.js';

/** The app's configuration: the validated environment plus what is derived from it. */
export interface Config {
  readonly env: Env;
  readonly production: boolean;
  /** The admin bearer token; generated at start in development when unset. */
  readonly adminToken: string;
  readonly adminTokenGenerated: boolean;
  /** The system onboarding number (a placeholder in development without Twilio). */
  readonly systemNumber: string;
  /**
   * Twilio's credentials. `simulated` (development stand-ins only): no real Twilio; webhooks
   * are checked with `authToken` (TWILIO_AUTH_TOKEN, or one generated for the run) and SMS
   * are printed instead of sent.
   */
  readonly twilio: { accountSid: string; authToken: string; apiBaseUrl: string | undefined; simulated?: boolean } | undefined;
  /** Campaign-breaker thresholds and probe timing set in the environment (DELIVERABILITY_*); the rest keep the policy's defaults. */
  readonly deliverability: DeliverabilityOptions;
  readonly slack: { botToken: string | undefined; signingSecret: string | undefined; channel: string | undefined; apiUrl: string | undefined };
  /** Secrets generated for this run because they were unset (development stand-ins), by variable name. */
  readonly generatedSecrets: readonly string[];
  /**
   * The operators: every number of ALERT_SMS_TO (empty when unset). They receive HIGH
   * alerts by SMS, and their texts to the system number are replies to alerts, never an
   * onboarding.
   */
  readonly operatorPhones: readonly string[];
  /** What is not configured and what that means, each naming the variable(s) to set. */
  readonly notices: readonly string[];
  /**
   * Deprecated variable names found (ADMIN_PHONE, SLACK_ALERTS_CHANNEL, TWILIO_NUMBER), each
   * with the name to use; `buildContext` logs one warning for each at start.
   */
  readonly deprecations: readonly EnvDeprecation[];
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /**
   * With NODE_ENV=development (the default), stand in for what is not configured so the app
   * can be tried locally: webhook secrets generated for the run (so `pnpm sim` can sign
   * requests), and SMS printed instead of sent while Twilio is not configured. `pnpm start`
   * turns this on; tests and production never get stand-ins.
   * @default false
   */
  readonly developmentStandIns?: boolean;
}

/** The system number used when TWILIO_FROM_NUMBER is unset (development and demo only). */
export const developmentSystemNumber = '+15550000000';

/** The account SID of the simulated Twilio (development stand-ins only; not a real account). */
export const simulatedTwilioAccountSid = `AC${'0'.repeat(32)}`;

/** Drain delay on SIGTERM/SIGINT outside production: a developer's Ctrl-C has no load balancer to wait for. */
export const developmentDrainDelayMs = 0;

const secret = (bytes: number) => randomBytes(bytes).toString('base64url');

/**
 * Validates the environment: one `EnvValidationError` names every missing or malformed
 * variable (never a value). In production the webhook secrets, the admin token, a real
 * database and the Twilio settings are required too.
 *
 * @example
 * ```ts
 * const config = loadConfig(process.env, { developmentStandIns: true });
 * for (const notice of config.notices) console.warn(notice);
 * ```
 * @throws EnvValidationError
 */
export function loadConfig(raw: Readonly<Record<string, string | undefined>> = process.env, options: LoadConfigOptions = {}): Config {
  const { env: source, deprecations } = resolveDeprecatedEnv(raw);
  const production = source.NODE_ENV === 'production';
  const schema = production
    ? envSchema.required(Object.fromEntries(requiredInProduction.map((name) => [name, true])) as { [K in (typeof requiredInProduction)[number]]: true })
    : envSchema;
  const input = production || (source.SHUTDOWN_DRAIN_DELAY_MS ?? '') !== '' ? source : { ...source, SHUTDOWN_DRAIN_DELAY_MS: String(developmentDrainDelayMs) };
  let validated: Env;
  try {
    validated = validateEnv<typeof schema>(schema, { env: input });
  } catch (error) {
    throw blameDeprecatedNames(error, deprecations);
  }
  const standIns = options.developmentStandIns === true && validated.NODE_ENV === 'development';
  const generatedSecrets: string[] = [];
  const notices: string[] = [];
  const generate = (name: string, make: () => string): string => {
    generatedSecrets.push(name);
    return make();
  };
  const env: Env = {
    ...validated,
    STRIPE_WEBHOOK_SECRET: validated.STRIPE_WEBHOOK_SECRET ?? (standIns ? generate('STRIPE_WEBHOOK_SECRET', () => `whsec_${secret(24)}`) : undefined),
  };
  const generated = env.ADMIN_TOKEN === undefined;
  const { TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: token } = env;
  let twilio: Config['twilio'];
  if (sid !== undefined && token !== undefined) {
    twilio = { accountSid: sid, authToken: token, apiBaseUrl: env.TWILIO_API_BASE_URL };
  } else {
    // Say which half is missing: a lone TWILIO_AUTH_TOKEN used to be ignored in silence.
    if (sid === undefined && token !== undefined)
      notices.push('TWILIO_AUTH_TOKEN is set but TWILIO_ACCOUNT_SID is not: Twilio needs both, so SMS are not sent');
    else if (sid !== undefined) notices.push('TWILIO_ACCOUNT_SID is set but TWILIO_AUTH_TOKEN is not: Twilio needs both, so SMS are not sent');
    else notices.push('TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set: SMS are not sent');
    if (standIns) {
      twilio = {
        accountSid: sid ?? simulatedTwilioAccountSid,
        authToken: token ?? generate('TWILIO_AUTH_TOKEN', () => randomBytes(16).toString('hex')),
        apiBaseUrl: undefined,
        simulated: true,
      };
    } else if (token === undefined) {
      notices.push('TWILIO_AUTH_TOKEN is not set: every Twilio webhook is refused with 403');
    }
  }
  const slack = {
    botToken: env.SLACK_BOT_TOKEN,
    signingSecret: env.SLACK_SIGNING_SECRET ?? (standIns ? generate('SLACK_SIGNING_SECRET', () => randomBytes(16).toString('hex')) : undefined),
    channel: env.SLACK_ALERT_CHANNEL,
    apiUrl: env.SLACK_API_URL,
  };
  if (slack.signingSecret === undefined) notices.push('SLACK_SIGNING_SECRET is not set: every Slack event is refused with 403');
  if (env.STRIPE_WEBHOOK_SECRET === undefined) notices.push('STRIPE_WEBHOOK_SECRET is not set: every Stripe webhook is refused with 403');
  if (env.SLACK_BOT_TOKEN === undefined) notices.push('SLACK_BOT_TOKEN is not set: no Slack alerts or permalinks');
  else if (env.SLACK_ALERT_CHANNEL === undefined) notices.push('SLACK_ALERT_CHANNEL is not set: alerts are not posted to Slack');
  if (env.ALERT_SMS_TO === undefined) notices.push('ALERT_SMS_TO is not set: HIGH alerts are not texted to anyone');
  return {
    env,
    production,
    adminToken: env.ADMIN_TOKEN ?? secret(24),
    adminTokenGenerated: generated,
    systemNumber: env.TWILIO_FROM_NUMBER ?? developmentSystemNumber,
    twilio,
    deliverability: deliverabilityFromEnv(env),
    slack,
    generatedSecrets,
    operatorPhones: env.ALERT_SMS_TO ?? [],
    notices,
    deprecations,
  };
}

/**
 * The deliverability options the environment sets (`DELIVERABILITY_*`), only those set:
 * `buildContext` lays them over the policy's defaults (and a test's overrides over them).
 *
 * @example
 * ```ts
 * deliverabilityFromEnv(loadConfig({ DELIVERABILITY_PROBE_AFTER_MS: '30000' }).env);
 * // { probeAfterMs: 30000 }
 * ```
 */
export function deliverabilityFromEnv(env: Env): DeliverabilityOptions {
  const pairs: Array<[keyof DeliverabilityOptions, number | undefined]> = [
    ['spikeThreshold', env.DELIVERABILITY_SPIKE_THRESHOLD],
    ['spikeWindowMs', env.DELIVERABILITY_SPIKE_WINDOW_MS],
    ['probeAfterMs', env.DELIVERABILITY_PROBE_AFTER_MS],
    ['probeIntervalMs', env.DELIVERABILITY_PROBE_INTERVAL_MS],
    ['unreadableRetryMs', env.DELIVERABILITY_UNREADABLE_RETRY_MS],
    ['transientResendMs', env.DELIVERABILITY_TRANSIENT_RESEND_MS],
  ];
  return Object.fromEntries(pairs.filter(([, value]) => value !== undefined));
}
