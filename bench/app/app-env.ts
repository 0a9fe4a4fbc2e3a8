import { randomBytes } from 'node:crypto';
import type { FakeTwilio } from '../../tools/test-support/src/fake-twilio.ts';

/**
 * The environment `pnpm bench:app` (and its soak) starts the app with: production mode, every
 * Twilio variable set against the local fake Twilio (so the outbox sends), fresh webhook
 * secrets, no shutdown drain, `info` logs.
 *
 * @example
 * ```ts
 * spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: benchAppEnv({ port, databaseUrl, redisUrl, keyPrefix: 'bench-app', fakeTwilio, systemNumber }) });
 * ```
 */
export function benchAppEnv(options: {
  readonly port: number;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly keyPrefix: string;
  readonly fakeTwilio: FakeTwilio;
  readonly systemNumber: string;
  readonly adminToken?: string;
}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(options.port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${options.port}`,
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    REDIS_KEY_PREFIX: `${options.keyPrefix}-${randomBytes(3).toString('hex')}`,
    ADMIN_TOKEN: options.adminToken ?? randomBytes(24).toString('base64url'),
    TWILIO_ACCOUNT_SID: options.fakeTwilio.accountSid,
    TWILIO_AUTH_TOKEN: options.fakeTwilio.authToken,
    TWILIO_FROM_NUMBER: options.systemNumber,
    TWILIO_API_BASE_URL: options.fakeTwilio.url,
    SLACK_SIGNING_SECRET: randomBytes(16).toString('hex'),
    STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('base64url')}`,
    SHUTDOWN_DRAIN_DELAY_MS: '0',
    LOG_LEVEL: 'info',
  };
}
