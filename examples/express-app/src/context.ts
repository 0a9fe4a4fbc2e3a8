import type { Redis } from 'ioredis';
import pino from 'pino';
import { BreakerRegistry, shareBreakerState, type SharedBreakerState } from '@hardening/circuit-breaker';
import { createSafeCall, type Logger } from '@hardening/core';
import { createIdempotencyGuard, createPrismaStore, createRedisStore, createWebhookDedup } from '@hardening/idempotency';
import { SilenceBook } from './admin/silence-book.js';
import type { AlertInput } from './alerts/alert-input.js';
import type { AppContext } from './app-context.js';
import type { Config } from './config/config.js';
import { openDatabase } from './db/database.js';
import { deterministicExtractor, type Extractor } from './domain/extractor.js';
import { KnownOwners } from './domain/known-owners.js';
import { createAppHealth, type AppHealthOptions } from './health.js';
import { InboxSpool } from './inbox-spool.js';
import { settlesWithin } from './settles-within.js';
import { InProcessQueue } from './jobs/in-process-queue.js';
import { evaluationTimeoutMs } from './jobs/slack-signal.js';
import { defaultRetryPolicy, type JobQueue, type RetryPolicy } from './jobs/job-queue.js';
import { createMetrics } from './metrics.js';
import { Deliverability } from './domain/deliverability/deliverability.js';
import type { DeliverabilityOptions } from './domain/deliverability/policy.js';
import { createAppAlertService } from './alerts/alert-service.js';
import { consoleSmsSender } from './providers/console-sms-sender.js';
import { twilioSender } from './providers/sms-sender.js';
import { loadOptionalSdk } from './providers/optional-sdk.js';
import { stripeWebhookSdk, twilioSignatureSdk } from './providers/webhook-sdks.js';
import { warnDeprecatedEnv } from './config/deprecated-env.js';
import { BusinessDirectory, type BusinessDirectoryOptions } from './ingest/business-directory.js';

/** What {@link buildContext} returns: the context, and how to release what it opened. */
export interface BuiltContext {
  readonly ctx: AppContext;
  readonly redis: Redis | undefined;
  readonly sharedBreakers: SharedBreakerState | undefined;
  /**
   * Closes the queue, the alerts, Redis and the database, in that order. With `withinMs`
   * (shutdown) the whole close is bounded: a step still waiting when the time is up (work
   * stuck on a hung database or Redis) is left behind with a warning naming it, and the
   * steps after it still run; what was in flight is redone from the outbox and inbox.
   */
  close(options?: { readonly withinMs?: number }): Promise<void>;
}

/** Hooks for tests and the demo: replace a part without touching the wiring. */
export interface ContextOverrides {
  readonly logger?: Logger;
  readonly extractor?: Extractor;
  readonly alert?: (alert: AlertInput) => void;
  readonly inlineBudgetMs?: number;
  /** Attempts and backoff of queued jobs. @default 5 attempts from 2 s (see jobs/job-queue.ts) */
  readonly jobRetryPolicy?: RetryPolicy;
  /** @default 25_000 (see jobs/slack-signal.ts) */
  readonly signalEvaluationTimeoutMs?: number;
  /** Where the inbox spool file lives. @default `<PGLITE_DATA_DIR>/../inbox-spool.jsonl` (`.data/inbox-spool.jsonl` with `memory://`) */
  readonly spoolFile?: string;
  /** Health options (recovery limits). */
  readonly health?: AppHealthOptions;
  /** Campaign-breaker thresholds and probe timing (see domain/deliverability/policy.ts). */
  readonly deliverability?: DeliverabilityOptions;
  /** How often the business directory reads changes and reloads (see ingest/business-directory.ts). */
  readonly directory?: BusinessDirectoryOptions;
  /**
   * The app's Redis client's reconnect delay after the `times`-th failed attempt (ioredis's
   * `retryStrategy`). A request waits for two reconnects (`maxRetriesPerRequest: 2`) before
   * it fails, so this sets how soon a Redis that went away is found down. Outage tests
   * shorten it; production keeps ioredis's backoff.
   * @default ioredis's, `Math.min(times * 50, 2000)` ms
   */
  readonly redisRetryStrategy?: (times: number) => number | null;
}

/** The Slack SDK's logger interface on top of ours, so its warnings are structured too. */
function slackLogger(logger: Logger) {
  const line =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...parts: unknown[]) =>
      logger[level]({ component: 'slack-sdk' }, parts.map(String).join(' '));
  return {
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    setLevel: () => {},
    getLevel: () => 'info' as never,
    setName: () => {},
  };
}

/**
 * pino, with secrets and phone-number fields redacted by path as a second line of defence.
 * `destination` defaults to stdout, written synchronously (the tests and the demo pass their own).
 *
 * Synchronous, not pino's default asynchronous stdout: a line is on the file descriptor when
 * the call returns, so an instance killed by SIGKILL or the OOM killer loses none of its last
 * lines (the chaos harness reads a killed instance's lines; an operator reads them after an
 * incident), and it costs less: the asynchronous writer's thread-pool hand-off and completion
 * were 5.2 % of `POST /sms`'s busy time under `pnpm bench:app`, the synchronous write 0.8 %.
 * The price: a log reader that stops reading stdout stalls the app (backpressure) instead of
 * letting pino buffer without bound in memory.
 */
export function createLogger(level: string, destination: pino.DestinationStream = pino.destination({ dest: 1, sync: true })): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-twilio-signature"]',
        'req.headers["x-slack-signature"]',
        'req.headers["stripe-signature"]',
        '*.authToken',
        '*.password',
        '*.token',
      ],
      censor: '[redacted]',
    },
  };
  return pino(options, destination);
}

/**
 * The optional SDKs this configuration uses, imported (together) before anything is opened:
 * unconfigured ones are never loaded (each costs a start, and every test file, ~0.3-2 s of
 * module loading), and a configured one that cannot be loaded fails the start with a
 * sentence naming the package and the variable, rather than the first request.
 */
async function loadConfiguredSdks(config: Config, overrides: ContextOverrides) {
  const { env } = config;
  const withRedis = env.REDIS_URL !== undefined;
  const [ioredis, bullmq, slack, openai, twilioRest] = await Promise.all([
    withRedis ? loadOptionalSdk('ioredis', 'REDIS_URL (Redis)', () => import('ioredis')) : undefined,
    withRedis ? loadOptionalSdk('bullmq', 'REDIS_URL (BullMQ job queue)', () => import('./jobs/bullmq-queue.js')) : undefined,
    config.slack.botToken === undefined ? undefined : loadOptionalSdk('@slack/web-api', 'SLACK_BOT_TOKEN (Slack Web API)', () => import('@slack/web-api')),
    env.OPENAI_API_KEY === undefined || overrides.extractor !== undefined
      ? undefined
      : loadOptionalSdk('openai', 'OPENAI_API_KEY (OpenAI extractor)', () => import('./domain/openai-extractor.js')),
    // A simulated Twilio (development stand-in) has no REST client, but its webhooks are signed.
    config.twilio === undefined || config.twilio.simulated === true
      ? undefined
      : loadOptionalSdk('twilio', 'TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (Twilio REST client)', () => import('./providers/twilio-client.js')),
    config.twilio === undefined ? undefined : twilioSignatureSdk.load(),
    env.STRIPE_WEBHOOK_SECRET === undefined ? undefined : stripeWebhookSdk.load(),
  ]);
  return { ioredis, bullmq, slack, openai, twilioRest };
}

/**
 * Builds everything the app shares from the configuration: PostgreSQL or PGlite, Redis
 * when configured (idempotency store, shared breaker state, BullMQ queue, spool), the
 * providers' real SDKs pointed at their configured endpoints (each imported only when configured).
 *
 * @throws {SdkLoadError} When a configured SDK cannot be loaded (before anything is opened).
 */
export async function buildContext(config: Config, overrides: ContextOverrides = {}): Promise<BuiltContext> {
  const { env } = config;
  const logger = overrides.logger ?? createLogger(env.LOG_LEVEL);
  // One warning per deprecated variable at start (ADMIN_PHONE...), naming its replacement.
  warnDeprecatedEnv(config.deprecations, logger);
  const sdks = await loadConfiguredSdks(config, overrides);
  const registry = new BreakerRegistry();
  const safeCall = createSafeCall({ registry, logger });
  const redis =
    env.REDIS_URL === undefined || sdks.ioredis === undefined
      ? undefined
      : // No enableAutoPipelining: the idempotency store batches the commands of a tick itself (a
        // corked socket), which ioredis's per-tick Pipeline would only wrap again (pnpm bench:app:
        // app CPU 0.78 -> 0.75-0.77 ms per request).
        new sdks.ioredis.Redis(env.REDIS_URL, {
          maxRetriesPerRequest: 2,
          ...(overrides.redisRetryStrategy === undefined ? {} : { retryStrategy: overrides.redisRetryStrategy }),
        });
  redis?.on('error', (error) => logger.warn({ err: error.message }, 'Redis connection error'));
  // One prefix for every Redis key and queue name: several apps (or test runs) share a Redis.
  const redisPrefix = env.REDIS_KEY_PREFIX;
  const sharedBreakers = redis === undefined ? undefined : shareBreakerState(registry, { redis, logger, prefix: `${redisPrefix}:cb` });
  const db = await openDatabase({ databaseUrl: env.DATABASE_URL, pgliteDir: env.PGLITE_DATA_DIR, logger, safeCall });
  const idempotencyStore = redis === undefined ? createPrismaStore({ prisma: db.prisma }) : createRedisStore({ redis, prefix: `${redisPrefix}:idem:` });
  const queue: JobQueue =
    env.REDIS_URL === undefined || sdks.bullmq === undefined
      ? new InProcessQueue(logger, overrides.jobRetryPolicy ?? defaultRetryPolicy)
      : new sdks.bullmq.BullmqQueue(
          { url: env.REDIS_URL, maxRetriesPerRequest: null },
          logger,
          `${redisPrefix}-jobs`,
          overrides.jobRetryPolicy ?? defaultRetryPolicy,
        );
  // Beside the PGlite folder; with `memory://` (no folder) in the default `.data` instead of
  // a path built from the URL (which landed in the working directory).
  const dataDir = env.PGLITE_DATA_DIR.includes('://') ? '.data/pglite' : env.PGLITE_DATA_DIR.replace(/\/+$/, '');
  const spoolFile = overrides.spoolFile ?? `${dataDir}/../inbox-spool.jsonl`;
  // A simulated Twilio (development stand-in) has no REST client: SMS go to consoleSmsSender.
  const twilio =
    config.twilio === undefined || sdks.twilioRest === undefined
      ? undefined
      : sdks.twilioRest.createTwilioClient(config.twilio.accountSid, config.twilio.authToken, config.twilio.apiBaseUrl);
  const slack =
    config.slack.botToken === undefined || sdks.slack === undefined
      ? undefined
      : new sdks.slack.WebClient(config.slack.botToken, {
          ...(config.slack.apiUrl === undefined ? {} : { slackApiUrl: config.slack.apiUrl }),
          // Retries are safeCall's; the SDK's default policy retries for ~30 min.
          retryConfig: { retries: 0 },
          rejectRateLimitedCalls: true,
          logger: slackLogger(logger),
        });
  const metrics = createMetrics({ breakers: registry, queueDepth: () => queue.depth(), prefix: env.METRICS_PREFIX });
  const alerts = await createAppAlertService({ config, logger, registry, metrics, db: db.prisma, redis, twilio, slack });
  const extractor =
    overrides.extractor ??
    (env.OPENAI_API_KEY === undefined || sdks.openai === undefined
      ? deterministicExtractor
      : sdks.openai.openAIExtractorFromEnv({ apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL, model: env.OPENAI_MODEL, safeCall, alerts, logger }));
  const alert =
    overrides.alert ??
    ((input: AlertInput) => {
      // sendCriticalAlert never throws; the catch is for a bug in the wiring itself.
      alerts
        .sendCriticalAlert(input)
        .catch((error: unknown) => logger.error({ alert: input.type, err: String(error) }, 'ALERT LOST: could not raise the alert'));
    });
  // The spool is read through ctx (built below) when a check runs.
  const spool = { size: () => ctx.spool.size() };
  const health = createAppHealth({ config, logger, db, redis, queue, breakers: registry, alerts, spool }, overrides.health);
  const silences = new SilenceBook({ alerts, logger, ...(redis === undefined ? {} : { redis }), key: `${env.REDIS_KEY_PREFIX}:alert-silences` });
  silences.start();
  // What a missed call is texted with while the database does not answer (see its cost there).
  const directory = new BusinessDirectory(db, logger, overrides.directory);
  directory.start();
  const ctx: AppContext = {
    config,
    logger,
    db,
    safeCall,
    idempotencyStore,
    dedup: createWebhookDedup({ store: idempotencyStore, logger }),
    once: createIdempotencyGuard({ store: idempotencyStore, namespace: 'once:', logger }),
    queue,
    spool: new InboxSpool(logger, redis, spoolFile, `${redisPrefix}:inbox-spool`),
    metrics,
    breakers: registry,
    alerts,
    alert,
    extractor,
    processing: {
      extractor,
      systemNumber: config.systemNumber,
      operatorPhones: config.operatorPhones,
      paymentLink: (clientId) => `${env.STRIPE_PAYMENT_LINK}?client_reference_id=${encodeURIComponent(clientId)}`,
      knownOwners: new KnownOwners(),
    },
    deliverability: new Deliverability(
      {
        db: db.prisma,
        logger,
        alert,
        countFinal: (status, errorClass) => metrics.smsDeliveries.inc({ status, error_class: errorClass }),
        countRefused: (reason) => metrics.smsRefused.inc({ reason }),
      },
      { ...config.deliverability, ...overrides.deliverability },
    ),
    sms: config.twilio?.simulated === true ? consoleSmsSender(logger) : twilio === undefined ? undefined : twilioSender(twilio),
    slack,
    inlineBudgetMs: overrides.inlineBudgetMs ?? 8000,
    redis,
    health,
    silences,
    directory,
    signalEvaluationTimeoutMs: overrides.signalEvaluationTimeoutMs ?? evaluationTimeoutMs,
  };
  return {
    ctx,
    redis,
    sharedBreakers,
    close: async ({ withinMs } = {}) => {
      silences.close();
      directory.close();
      health.close();
      const deadline = withinMs === undefined ? undefined : Date.now() + withinMs;
      const abandoned: string[] = [];
      const step = async (name: string, work: () => Promise<unknown>) => {
        if (!(await settlesWithin(work(), deadline === undefined ? undefined : deadline - Date.now()))) abandoned.push(name);
      };
      await step('queue', () => queue.close());
      await step('alerts', () => alerts.close());
      await step('shared breakers', async () => sharedBreakers?.close());
      redis?.disconnect();
      await step('database', () => db.close());
      if (abandoned.length > 0) {
        logger.warn(
          { event: 'app.close_abandoned', withinMs, abandoned },
          `closing: did not wait for ${abandoned.join(', ')} (no answer within ${withinMs} ms in all, a dependency hung?); their work stays in the outbox and inbox for the next instance`,
        );
      }
    },
  };
}
