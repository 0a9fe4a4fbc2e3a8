// Starts the reference app: `pnpm start` (embedded PGlite, no environment needed).
import { GracefulShutdown, isEnvValidationError } from '@hardening/health';
import { loadConfig } from './config/config.js';
import { buildContext } from './context.js';
import { seedDevelopmentNumbers } from './dev/development-numbers.js';
import { devSessionFileFor, writeDevSession } from './dev/dev-session.js';
import { startupSummary } from './dev/startup-summary.js';
import { startJobRunner } from './jobs/job-runner.js';
import { Scheduler } from './jobs/scheduler.js';
import { installAppProcessHandlers } from './process-handlers.js';
import { createApp } from './server.js';
import { loadDotEnv } from './config/dotenv.js';
import { startTelemetry } from './telemetry.js';

loadDotEnv();
// OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set (docs/telemetry.md); the SDK's
// packages report through the global providers it registers.
const telemetry = await startTelemetry(process.env);
let config;
try {
  // In development, stand-ins for what is not configured (see loadConfig): `pnpm sim` works at once.
  config = loadConfig(process.env, { developmentStandIns: true });
} catch (error) {
  if (isEnvValidationError(error)) {
    console.error(`Refusing to start: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
// Migrations run in here: readiness stays 503 (startup probe pending) until markStarted below.
const built = await buildContext(config);
const { ctx } = built;
// Crashes are logged, alerted (PROCESS_CRASH), the connections closed, and the process exits 1.
installAppProcessHandlers(ctx, { close: () => built.close() });
const standIns = config.twilio?.simulated === true || config.generatedSecrets.length > 0;
// A fresh local database gets a few client numbers, so the first sign-up is not POOL_EMPTY.
const seededNumbers = standIns && ctx.db.kind === 'pglite' ? await seedDevelopmentNumbers(ctx.db.prisma) : [];
startJobRunner(ctx);
const scheduler = new Scheduler(ctx, { redisKeyPrefix: config.env.REDIS_KEY_PREFIX, ...(built.redis === undefined ? {} : { redis: built.redis }) });
await scheduler.start();
ctx.health.registerRecovery('outbox_worker', async () => {
  await scheduler.stop();
  await scheduler.start();
});
const app = createApp(ctx);
// 'listening', not app.listen's callback: Express 5 calls that back on a listen error too,
// which the 'error' listener below reports.
const server = app.listen(config.env.PORT);
server.once('listening', () => {
  const { port } = server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  let sessionFile: string | undefined;
  if (standIns) {
    // What `pnpm sim` needs to sign requests as the providers do (0600, removed at exit).
    sessionFile = devSessionFileFor(config.env.PGLITE_DATA_DIR);
    const removeSession = writeDevSession(sessionFile, {
      url,
      publicUrl: config.env.PUBLIC_BASE_URL ?? url,
      adminToken: config.adminToken,
      systemNumber: config.systemNumber,
      twilioAccountSid: config.twilio?.accountSid,
      twilioAuthToken: config.twilio?.authToken,
      slackSigningSecret: config.slack.signingSecret,
      stripeWebhookSecret: config.env.STRIPE_WEBHOOK_SECRET,
      pid: process.pid,
    });
    process.once('exit', removeSession);
  }
  ctx.health.monitor.markStarted();
  ctx.logger.info({ port, database: ctx.db.kind, queue: ctx.queue.kind, twilio: ctx.sms !== undefined, slack: ctx.slack !== undefined }, `listening on ${url}`);
  if (!config.production) console.log(startupSummary(config, { url, database: ctx.db.kind, queue: ctx.queue.kind, seededNumbers, sessionFile }));
});
server.on('error', (error) => {
  ctx.health.monitor.markStartupFailed(error);
  ctx.logger.error({ err: error.message }, 'could not listen');
  void built.close().finally(() => process.exit(1));
});

// SIGTERM/SIGINT: readiness 503 at once, keep serving for SHUTDOWN_DRAIN_DELAY_MS so the load
// balancer stops sending, close the listener and wait for in-flight requests, then close the
// queue, Redis and the database in that order (buildContext's close), each bounded.
// The scheduler and the close stop waiting on a hung dependency (4 s, 5 s) rather than fail:
// what they leave is in the outbox and inbox and another instance does it. Drain + in-flight
// wait (10 s at most) + 4 s + 5 s stays inside the 25 s hard limit with the default drain.
new GracefulShutdown({ servers: [server], health: ctx.health.monitor, drainDelayMs: config.env.SHUTDOWN_DRAIN_DELAY_MS, logger: ctx.logger })
  .addCleanup('scheduler', () => scheduler.stop({ waitMs: 4000 }), { timeoutMs: 6000 })
  .addCleanup('queue, alerts, Redis, database', () => built.close({ withinMs: 5000 }), { timeoutMs: 7000 })
  // Only when OTLP export is configured; 1 s keeps the sum inside the 25 s hard limit.
  .addCleanup('telemetry export', () => telemetry.shutdown(), { timeoutMs: 1_000 })
  .install();
