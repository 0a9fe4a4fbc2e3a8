// Starts the reference app: `pnpm start` (embedded PGlite, no environment needed).
import { isEnvValidationError } from '@hardening/health';
import { loadConfig } from './config/config.js';
import { buildContext } from './context.js';
import { startJobRunner } from './jobs/job-runner.js';
import { Scheduler } from './jobs/scheduler.js';
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
const built = await buildContext(config);
const { ctx } = built;
if (config.adminTokenGenerated) {
  console.log(`\n  ADMIN_TOKEN not set: generated one for this run (admin API, /metrics, /health details):\n\n    ${config.adminToken}\n`);
}
startJobRunner(ctx);
const scheduler = new Scheduler(ctx, { ...(built.redis === undefined ? {} : { redis: built.redis }) });
await scheduler.start();
const app = createApp(ctx);
const server = app.listen(config.env.PORT, () => {
  ctx.logger.info(
    { port: config.env.PORT, database: ctx.db.kind, queue: ctx.queue.kind, twilio: ctx.sms !== undefined, slack: ctx.slack !== undefined },
    `listening on http://127.0.0.1:${config.env.PORT}`,
  );
});
const stop = async () => {
  server.close();
  await scheduler.stop();
  await built.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
