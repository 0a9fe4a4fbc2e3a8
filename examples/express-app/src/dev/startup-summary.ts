import type { Config } from '../config/config.js';

/** What {@link startupSummary} reports besides the configuration. */
export interface StartupFacts {
  readonly url: string;
  readonly database: 'postgres' | 'pglite';
  readonly queue: 'bullmq' | 'in-process';
  /** Client numbers added to an empty development pool at this start. */
  readonly seededNumbers: readonly string[];
  /** Where `pnpm sim` finds this run's secrets (development stand-ins), if written. */
  readonly sessionFile: string | undefined;
}

/**
 * The few lines `pnpm start` prints once the app is ready: the URL, the admin token when it
 * was generated, what is configured and what is not (each naming the variable to set), and
 * the next thing to try. Never prints a configured secret.
 *
 * @example
 * ```ts
 * console.log(startupSummary(config, { url: 'http://127.0.0.1:3001', database: 'pglite', queue: 'in-process', seededNumbers: [], sessionFile: undefined }));
 * ```
 */
export function startupSummary(config: Config, facts: StartupFacts): string {
  const { env } = config;
  const mode = config.production ? 'production' : env.NODE_ENV;
  const lines = ['', `  Missed-Call Assistant is ready at ${facts.url}  (${mode})`, ''];
  if (config.adminTokenGenerated) lines.push(`  Admin token, generated for this run (set ADMIN_TOKEN to keep one):`, `    ${config.adminToken}`, '');
  const twilio = config.twilio === undefined ? 'off' : config.twilio.simulated === true ? 'simulated: SMS are printed here, not sent' : 'configured';
  const generated = config.generatedSecrets.length === 0 ? undefined : `generated for this run: ${config.generatedSecrets.join(', ')}`;
  lines.push(
    `  Database   ${facts.database === 'pglite' ? `embedded PGlite in ${env.PGLITE_DATA_DIR} (DATABASE_URL for PostgreSQL)` : 'PostgreSQL (DATABASE_URL)'}`,
    `  Queue      ${facts.queue === 'bullmq' ? 'BullMQ on Redis (REDIS_URL)' : 'in-process (REDIS_URL for Redis and BullMQ)'}`,
    `  Twilio     ${twilio}`,
    `  Slack      ${config.slack.botToken === undefined ? 'no bot token' : 'bot token set'}; events ${config.slack.signingSecret === undefined ? 'refused (no signing secret)' : 'accepted when signed'}`,
    `  Stripe     webhooks ${env.STRIPE_WEBHOOK_SECRET === undefined ? 'refused (no STRIPE_WEBHOOK_SECRET)' : 'accepted when signed'}`,
    `  OpenAI     ${env.OPENAI_API_KEY === undefined ? 'off: the built-in rule-based extractor answers' : `on (${env.OPENAI_MODEL})`}`,
  );
  if (generated !== undefined) lines.push(`  Secrets    ${generated}`);
  if (facts.seededNumbers.length > 0) lines.push(`  Pool       stocked with ${facts.seededNumbers.length} development numbers (${facts.seededNumbers[0]} ...)`);
  if (config.notices.length > 0)
    lines.push('', '  Not configured (fine locally; see .env.example and `pnpm run doctor`):', ...config.notices.map((notice) => `    - ${notice}`));
  lines.push('', '  Next, in another terminal:');
  if (facts.sessionFile !== undefined) lines.push('    pnpm sim sms +15550001111 "Hi"     sign up a business by SMS (then answer its questions)');
  lines.push(
    `    open ${facts.url}/admin  the operator console (sign in with the admin token)`,
    `    curl ${facts.url}/health/ready`,
    '    pnpm demo                          a scripted day against local provider stand-ins',
  );
  lines.push(
    '',
    `  Ctrl-C stops${env.SHUTDOWN_DRAIN_DELAY_MS === 0 ? ' at once (no drain delay outside production)' : ` after a ${env.SHUTDOWN_DRAIN_DELAY_MS} ms drain`}.`,
    '',
  );
  return lines.join('\n');
}
