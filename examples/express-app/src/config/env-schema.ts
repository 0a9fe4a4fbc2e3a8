import { z } from 'zod';
import { toE164 } from '../domain/phone.js';

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const e164 = z.string().transform((value, ctx) => {
  const phone = toE164(value);
  if (phone === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a phone number in E.164 form, e.g. +15551234567' });
    return z.NEVER;
  }
  return phone;
});

/** One or more E.164 numbers, comma-separated (the on-call list), normalised and deduplicated. */
const e164List = z.string().transform((value, ctx) => {
  const phones = value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => toE164(part));
  if (phones.length === 0 || phones.some((phone) => phone === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'must be one or more phone numbers in E.164 form, comma-separated, e.g. +15551234567,+15557654321' });
    return z.NEVER;
  }
  return [...new Set(phones as string[])];
});

const url = z.url({ message: 'must be a URL' });

/**
 * Every environment variable the app reads. Names are part of the app's contract with
 * operators and scripts: keep them. The alerting ones are `@hardening/alerting`'s own
 * (`ALERT_SMS_TO`, `SLACK_ALERT_CHANNEL`, `TWILIO_FROM_NUMBER`); their former names
 * (`ADMIN_PHONE`, `SLACK_ALERTS_CHANNEL`, `TWILIO_NUMBER`) are read as deprecated aliases
 * by `loadConfig` (see deprecated-env.ts).
 */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3001),
  /** The URL providers call: Twilio signatures are computed over it. */
  PUBLIC_BASE_URL: url.optional(),
  /** Trust X-Forwarded-* from this many proxies (for signature URLs and client IPs). */
  TRUST_PROXY: z.coerce.number().int().min(0).default(0),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
    .optional(),
  PGLITE_DATA_DIR: z.string().default('.data/pglite'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// URL')
    .optional(),
  /** Prefix of every Redis key and queue name, so several apps (or test runs) can share one Redis. */
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,60}$/, 'must be 1-60 letters, digits or _.- characters')
    .default('hardening-app'),
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'must look like AC followed by 32 hex digits')
    .optional(),
  TWILIO_AUTH_TOKEN: z.string().min(16, 'is too short to be a Twilio auth token').optional(),
  /** The system onboarding number, which also sends the alert SMS (formerly TWILIO_NUMBER). */
  TWILIO_FROM_NUMBER: e164.optional(),
  TWILIO_API_BASE_URL: url.optional(),
  SLACK_SIGNING_SECRET: z.string().min(16, 'is too short to be a Slack signing secret').optional(),
  SLACK_BOT_TOKEN: z.string().startsWith('xoxb-', 'must be a bot token (xoxb-...)').optional(),
  /** Where alerts are posted (formerly SLACK_ALERTS_CHANNEL). */
  SLACK_ALERT_CHANNEL: z.string().min(1).optional(),
  SLACK_API_URL: url.optional(),
  STRIPE_WEBHOOK_SECRET: z.string().startsWith('whsec_', 'must start with whsec_').optional(),
  /** Where owners pay; the client id is appended as client_reference_id. */
  STRIPE_PAYMENT_LINK: url.default('https://buy.stripe.com/test_missed_call_assistant'),
  SENTRY_DSN: url.optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: url.optional(),
  OPENAI_MODEL: z.string().default('gpt-4o-mini'),
  ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  /**
   * Who gets HIGH alerts by SMS: one or more E.164 numbers, comma-separated (formerly
   * ADMIN_PHONE, one number). Every number listed is an operator: its texts to the system
   * number answer alerts ("ACK <code>") and never start an onboarding.
   */
  ALERT_SMS_TO: e164List.optional(),
  ALERTS_DISABLED: flag,
  /** The runtime monitor raises POOL_LOW (MEDIUM) below this many AVAILABLE client numbers, HIGH at 0. */
  POOL_LOW_THRESHOLD: z.coerce.number().int().min(1).default(3),
  CORS_ORIGINS: z
    .string()
    .optional()
    .transform((value) =>
      (value ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  /** Requests per window per client IP on the public (non-webhook, non-admin) routes. */
  RATE_LIMIT_PUBLIC_MAX: z.coerce.number().int().min(1).default(100),
  RATE_LIMIT_PUBLIC_WINDOW_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(15 * 60_000),
  /** Requests per window per admin client (keyed on the token's hash) on the admin API and /metrics. */
  RATE_LIMIT_ADMIN_MAX: z.coerce.number().int().min(1).default(1000),
  RATE_LIMIT_ADMIN_WINDOW_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(60 * 60_000),
  /**
   * Breakers whose opening fails readiness (comma-separated; empty for none). None by
   * default: Twilio and PostgreSQL are shared by every instance, so an open breaker on them
   * would take the whole fleet out of the load balancer while the webhooks still answer (the
   * outbox and the spool exist for those outages). See docs/operations.md.
   */
  HEALTH_CRITICAL_BREAKERS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  /**
   * On SIGTERM/SIGINT, how long to keep serving (readiness already 503) before closing the
   * listener. Default 5000 in production; 0 otherwise (see config.ts: a developer's Ctrl-C
   * has no load balancer to wait for).
   */
  SHUTDOWN_DRAIN_DELAY_MS: z.coerce.number().int().min(0).default(5000),
  /**
   * The campaign breaker and the deliverability rules (domain/deliverability/policy.ts):
   * unset keeps the policy's default. Short probes suit a rehearsal (the chaos harness).
   */
  DELIVERABILITY_SPIKE_THRESHOLD: z.coerce.number().int().min(1).optional(),
  DELIVERABILITY_SPIKE_WINDOW_MS: z.coerce.number().int().min(1000).optional(),
  DELIVERABILITY_PROBE_AFTER_MS: z.coerce.number().int().min(1000).optional(),
  DELIVERABILITY_PROBE_INTERVAL_MS: z.coerce.number().int().min(1000).optional(),
  DELIVERABILITY_UNREADABLE_RETRY_MS: z.coerce.number().int().min(1000).optional(),
  DELIVERABILITY_TRANSIENT_RESEND_MS: z.coerce.number().int().min(1000).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Prefix of the app's own metric names at /metrics (not the Node process defaults). `none`
   * for the bare names (an empty value means unset here, as for every variable).
   */
  METRICS_PREFIX: z
    .string()
    .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'must be `none` or the start of a Prometheus metric name (letters, digits, _ and :, not starting with a digit)')
    .default('hardening_app_')
    .transform((value) => (value === 'none' ? '' : value)),
});

/** The validated environment. */
export type Env = z.output<typeof envSchema>;

/** What production refuses to start without (listed together in one message). */
export const requiredInProduction = [
  'DATABASE_URL',
  'PUBLIC_BASE_URL',
  'ADMIN_TOKEN',
  'TWILIO_ACCOUNT_SID',
  'TWILIO_AUTH_TOKEN',
  'TWILIO_FROM_NUMBER',
  'SLACK_SIGNING_SECRET',
  'STRIPE_WEBHOOK_SECRET',
] as const;
