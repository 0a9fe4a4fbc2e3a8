import { randomBytes } from 'node:crypto';
import { validateEnv } from '@hardening/health';
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
  readonly twilio: { accountSid: string; authToken: string; apiBaseUrl: string | undefined } | undefined;
  readonly slack: { botToken: string | undefined; signingSecret: string | undefined; channel: string | undefined; apiUrl: string | undefined };
}

/** The system number used when TWILIO_NUMBER is unset (development and demo only). */
export const developmentSystemNumber = '+15550000000';

/**
 * Validates the environment: one `EnvValidationError` names every missing or malformed
 * variable (never a value). In production the webhook secrets, the admin token, a real
 * database and the Twilio settings are required too.
 *
 * @throws EnvValidationError
 */
export function loadConfig(source: Readonly<Record<string, string | undefined>> = process.env): Config {
  const production = source.NODE_ENV === 'production';
  const schema = production
    ? envSchema.required(Object.fromEntries(requiredInProduction.map((name) => [name, true])) as { [K in (typeof requiredInProduction)[number]]: true })
    : envSchema;
  const env = validateEnv(schema, { env: source }) as Env;
  const generated = env.ADMIN_TOKEN === undefined;
  const twilio =
    env.TWILIO_ACCOUNT_SID !== undefined && env.TWILIO_AUTH_TOKEN !== undefined
      ? { accountSid: env.TWILIO_ACCOUNT_SID, authToken: env.TWILIO_AUTH_TOKEN, apiBaseUrl: env.TWILIO_API_BASE_URL }
      : undefined;
  return {
    env,
    production,
    adminToken: env.ADMIN_TOKEN ?? randomBytes(24).toString('base64url'),
    adminTokenGenerated: generated,
    systemNumber: env.TWILIO_NUMBER ?? developmentSystemNumber,
    twilio,
    slack: { botToken: env.SLACK_BOT_TOKEN, signingSecret: env.SLACK_SIGNING_SECRET, channel: env.SLACK_ALERTS_CHANNEL, apiUrl: env.SLACK_API_URL },
  };
}
