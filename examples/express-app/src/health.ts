import {
  HealthMonitor,
  RecoveryManager,
  alertSystemCheck,
  circuitBreakerCheck,
  createHealthRouter,
  defineCheck,
  envCheck,
  eventLoopDelayCheck,
  postgresCheck,
  queueBacklogCheck,
  redisCheck,
  type HealthCheck,
  type HealthRouter,
  type RecoveryAction,
  type RecoveryLimits,
  startAutoRecovery,
  type AutoRecoveryOptions,
} from '@hardening/health';
import type { AlertService } from '@hardening/alerting';
import type { BreakerRegistry } from '@hardening/circuit-breaker';
import type { Logger } from '@hardening/core';
import type { Config } from './config/config.js';
import { requiredInProduction } from './config/env-schema.js';
import type { Database } from './db/database.js';
import type { InboxSpool } from './inbox-spool.js';
import type { JobQueue } from './jobs/job-queue.js';

/** The slice of ioredis the health check and recovery use. */
export interface HealthRedis {
  ping(): Promise<string>;
}

/** What {@link createAppHealth} checks. */
export interface AppHealthDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Database;
  readonly redis: HealthRedis | undefined;
  readonly queue: JobQueue;
  readonly breakers: BreakerRegistry;
  readonly alerts: Pick<AlertService, 'getAlertSystemStatus'>;
  readonly spool: Pick<InboxSpool, 'size'>;
}

/** Options of {@link createAppHealth} (tests use small limits). */
export interface AppHealthOptions {
  /**
   * Recovery cooldown and hourly cap per action.
   * @default 5 min cooldown, 6 per hour (the package's defaults)
   */
  readonly recoveryLimits?: RecoveryLimits;
  /**
   * Automatic recovery (seed 004): a check that keeps failing runs its recovery action
   * (`database`: reconnect), under the same limits as `POST /health/recover`. `false` turns
   * it off.
   * @default every 30 s, after 2 failing looks
   */
  readonly autoRecovery?: Pick<AutoRecoveryOptions, 'intervalMs' | 'failuresBeforeRecovery'> | false;
}

/** The app's health: the monitor (checks + lifecycle) and the recovery actions. */
export interface AppHealth {
  /** Checks and lifecycle: `markStarted()` after start-up, `markShuttingDown()` on SIGTERM. */
  readonly monitor: HealthMonitor;
  /** Recovery actions behind `POST /health/recover` (cooldown and hourly cap per action). */
  readonly recovery: RecoveryManager;
  /**
   * Adds a recovery action (e.g. `outbox_worker`, registered by whoever runs the worker), with
   * the same limits as the built-in ones.
   */
  registerRecovery(service: string, action: RecoveryAction): void;
  /** The Express middleware serving /health, /health/live|ready|startup, /health/recover, /health/recovery-stats. */
  router(): HealthRouter;
  /** Stops the checks' timers (the event-loop monitor). */
  close(): void;
}

/** Statuses of outbox rows still to be sent (as the outbox worker counts them). */
export const outboxBacklogStatuses = ['pending', 'failed', 'unknown', 'sending'] as const;

const defaults = { spoolWarnAt: 1, queueWarnAt: 100, queueFailAt: 1000, outboxWarnAt: 50, outboxFailAt: 500 };

/**
 * The app's health checks, for `GET /health` (all), `/health/ready` (critical ones) and
 * `/health/live` (the process only):
 *
 * - `database:responseTime`: `SELECT 1` through Prisma (under the `database` breaker);
 *   critical with the embedded PGlite only (PostgreSQL is shared by every instance).
 * - `redis:responseTime` when REDIS_URL is set: PING. Not critical: every instance shares
 *   it, so failing readiness on it would take the whole fleet out of rotation, while the
 *   webhooks still answer (the inbox spool falls back to a local file).
 * - `queue:backlog` and `outbox:backlog` (jobs and SMS waiting), warn/fail thresholds, not critical.
 * - `circuitBreakers:state`: an open breaker warns; those in HEALTH_CRITICAL_BREAKERS (none by default) fail.
 * - `alerts:status`: ALERTS_DISABLED or no remote sink, or the alerting's own problems (a store down, a sink failing, pages pending), warns "degraded: ...".
 * - `eventLoop:delay`, `inboxSpool:size` (events the database could not take; warns when non-empty).
 * - `env:configuration`: the variables production requires (names only); critical in production.
 *
 * Recovery actions: `database` (reconnect Prisma, reset the `database` breaker) and
 * `circuitBreakers` (reset every breaker), plus what {@link AppHealth.registerRecovery} adds;
 * run on `POST /health/recover`, and automatically when a check keeps failing (`database`).
 */
export function createAppHealth(deps: AppHealthDeps, options: AppHealthOptions = {}): AppHealth {
  const { config, logger, db, redis, queue, breakers, alerts, spool } = deps;
  const env = Object.fromEntries(Object.entries(config.env).map(([name, value]) => [name, value === undefined ? undefined : String(value)]));
  const checks: HealthCheck[] = [
    // PostgreSQL is shared by every instance (not critical: see HEALTH_CRITICAL_BREAKERS);
    // an embedded PGlite is this instance's own, so it is.
    postgresCheck({ name: 'database', prisma: db.prisma, critical: db.kind === 'pglite' }),
    ...(redis === undefined ? [] : [redisCheck({ client: redis, critical: false })]),
    queueBacklogCheck({ name: 'queue', count: () => queue.depth(), warnAt: defaults.queueWarnAt, failAt: defaults.queueFailAt }),
    queueBacklogCheck({
      name: 'outbox',
      unit: 'messages',
      count: () => db.prisma.outboundMessage.count({ where: { status: { in: [...outboxBacklogStatuses] } } }),
      warnAt: defaults.outboxWarnAt,
      failAt: defaults.outboxFailAt,
    }),
    circuitBreakerCheck({ registry: breakers, criticalBreakers: config.env.HEALTH_CRITICAL_BREAKERS }),
    // A fresh object: alerting's status interface lacks the index signature health's type declares.
    alertSystemCheck({ source: alerts }),
    eventLoopDelayCheck(),
    defineCheck(
      'inboxSpool',
      async () => {
        const size = await spool.size();
        return size >= defaults.spoolWarnAt
          ? {
              status: 'warn',
              observedValue: size,
              observedUnit: 'events',
              output: `${size} inbound event(s) spooled: the database refused them; the sweep drains them once it answers`,
            }
          : { status: 'pass', observedValue: size, observedUnit: 'events' };
      },
      { measurement: 'size', componentType: 'component', critical: false },
    ),
    envCheck({ required: [...requiredInProduction], env, critical: config.production }),
  ];
  const monitor = new HealthMonitor({ checks, serviceId: 'missed-call-assistant', waitForStartup: true, logger });
  const limits = options.recoveryLimits ?? {};
  const recovery = new RecoveryManager({ logger });
  recovery.register(
    'database',
    async () => {
      // The breaker is reset first so the probe below (and then traffic) is let through at
      // once; the pool (PostgreSQL) or the adapter's session is dropped and opened afresh, and
      // a SELECT 1 proves it (a failure fails the action, and counts on the breaker again).
      breakers.find('database')?.reset();
      await db.prisma.$disconnect();
      await db.prisma.$connect();
      await db.ping();
    },
    limits,
  );
  recovery.register(
    'circuitBreakers',
    () => {
      for (const breaker of breakers.all()) breaker.reset();
    },
    limits,
  );
  const auto = options.autoRecovery === false ? undefined : startAutoRecovery(recovery, monitor, { ...options.autoRecovery, logger });
  return {
    monitor,
    recovery,
    registerRecovery: (service, action) => {
      recovery.register(service, action, limits);
    },
    router: () => createHealthRouter({ monitor, recovery, adminToken: config.adminToken, logger }),
    close: () => {
      auto?.stop();
      monitor.close();
    },
  };
}
