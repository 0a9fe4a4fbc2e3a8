// Starts the reference app: `pnpm start` (embedded PGlite, no environment needed).
import { GracefulShutdown, isEnvValidationError } from '@hardening/health';
import { loadConfig } from './config/config.js';
import { buildContext } from './context.js';
import { startJobRunner } from './jobs/job-runner.js';
import { Scheduler } from './jobs/scheduler.js';
import { installAppProcessHandlers } from './process-handlers.js';
import { createApp } from './server.js';

let config;
try {
  config = loadConfig();
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
if (config.adminTokenGenerated) {
  console.log(`\n  ADMIN_TOKEN not set: generated one for this run (admin API, /metrics, /health details):\n\n    ${config.adminToken}\n`);
}
startJobRunner(ctx);
const scheduler = new Scheduler(ctx, { redisKeyPrefix: config.env.REDIS_KEY_PREFIX, ...(built.redis === undefined ? {} : { redis: built.redis }) });
await scheduler.start();
ctx.health.registerRecovery('outbox_worker', async () => {
  await scheduler.stop();
  await scheduler.start();
});
const app = createApp(ctx);
const server = app.listen(config.env.PORT, () => {
  ctx.health.monitor.markStarted();
  ctx.logger.info(
    { port: config.env.PORT, database: ctx.db.kind, queue: ctx.queue.kind, twilio: ctx.sms !== undefined, slack: ctx.slack !== undefined },
    `listening on http://127.0.0.1:${config.env.PORT}`,
  );
});
server.on('error', (error) => {
  ctx.health.monitor.markStartupFailed(error);
  ctx.logger.error({ err: error.message }, 'could not listen');
  void built.close().finally(() => process.exit(1));
});

// SIGTERM/SIGINT: readiness 503 at once, keep serving for SHUTDOWN_DRAIN_DELAY_MS so the load
// balancer stops sending, close the listener and wait for in-flight requests, then close the
// queue, Redis and the database in that order (buildContext's close), each bounded.
new GracefulShutdown({ servers: [server], health: ctx.health.monitor, drainDelayMs: config.env.SHUTDOWN_DRAIN_DELAY_MS, logger: ctx.logger })
  .addCleanup('scheduler', () => scheduler.stop(), { timeoutMs: 10_000 })
  .addCleanup('queue, alerts, Redis, database', () => built.close(), { timeoutMs: 10_000 })
  .install();
