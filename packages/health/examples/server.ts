// server.ts — run with: node --import tsx server.ts   (needs express, pg, zod installed)
import express from 'express';
import pg from 'pg';
import { z } from 'zod';
import {
  GracefulShutdown,
  RecoveryManager,
  circuitBreakerCheck,
  createHealthRouter,
  eventLoopDelayCheck,
  postgresCheck,
  validateEnv,
} from '@hardening/health';

const env = validateEnv(
  z.object({
    DATABASE_URL: z.url().default('postgresql://postgres@127.0.0.1:5432/test'),
    PORT: z.coerce.number().int().default(3000),
    HEALTH_ADMIN_TOKEN: z.string().min(16).default('dev-only-token-0123456789'),
  }),
);

const pool = new pg.Pool({ connectionString: env.DATABASE_URL });
pool.on('error', () => {}); // the health check reports it

const recovery = new RecoveryManager({
  actions: { postgres: async () => void (await pool.query('SELECT 1')) },
});

const health = createHealthRouter({
  serviceId: 'sms-gateway',
  releaseId: process.env.GIT_SHA,
  adminToken: env.HEALTH_ADMIN_TOKEN, // unlocks details and POST /health/recover
  waitForStartup: true,
  recovery,
  checks: [
    postgresCheck({ client: pool }),
    circuitBreakerCheck({ criticalBreakers: ['twilio_sms'] }),
    eventLoopDelayCheck(),
  ],
});

const app = express();
app.use(health);
app.get('/', (_req, res) => void res.send('hello'));
const server = app.listen(env.PORT, () => {
  // migrations, cache warm-up ... then:
  health.monitor.markStarted();
  console.log(`curl http://127.0.0.1:${env.PORT}/health`);
});

new GracefulShutdown({ servers: [server], health: health.monitor })
  .addCleanup('postgres', () => pool.end())
  .install();
