import type { Timers } from '@hardening/core';
import type { Clock, InvariantViolation, MonitorLock, RedisEvalClient } from '@hardening/alerting';
import type { AppContext } from '../app-context.js';
import { createAppMonitor, type AppMonitor, type AppMonitorOptions } from './app-monitor.js';
import { checkMissingReceipts, reconcileDeliveries, type DeliveryWatchDeps, type MissingReceiptOptions } from './delivery-watch.js';
import { OutboxWorker, type OutboxRound, type OutboxWorkerOptions } from './outbox-worker.js';
import { PeriodicTask } from './periodic-task.js';
import { nextDailyRunAt, runRetention, type RetentionOptions, type RetentionReport } from './retention.js';
import { createSchedulerLock, type SchedulerLock } from './scheduler-lock.js';
import { sweepOnce, type SweepOptions } from './sweep.js';
import { settlesWithin } from '../settles-within.js';

/** Options of {@link Scheduler}. */
export interface SchedulerOptions {
  /** Redis (when configured): the lock for the monitor and retention rounds. */
  readonly redis?: RedisEvalClient;
  /** Prefix of the Redis lock keys. @default 'hardening-app' */
  readonly redisKeyPrefix?: string;
  /** Replaces the lock chosen from the configuration (Redis, PostgreSQL, none). */
  readonly lock?: MonitorLock;
  /** Time between outbox rounds (a full batch runs the next one at once). @default 1500 */
  readonly outboxIntervalMs?: number;
  /** The outbox worker's own settings (batch size, retry delays). */
  readonly outbox?: Pick<OutboxWorkerOptions, 'batchSize' | 'staleSendingMs' | 'maxRounds' | 'retryDelayMs'>;
  /** Time between sweeps. @default 30_000 */
  readonly sweepIntervalMs?: number;
  readonly sweep?: Omit<SweepOptions, 'now'>;
  /** The monitor's settings (interval 5 min, pool threshold from POOL_LOW_THRESHOLD...). */
  readonly monitor?: Pick<AppMonitorOptions, 'intervalMs' | 'jitterMs' | 'poolLowThreshold' | 'backlogAgeMs' | 'deadLetterWindowMs'>;
  /** Hour of the day (UTC) retention runs at. @default 4 */
  readonly retentionHourUtc?: number;
  readonly retention?: RetentionOptions;
  /** Time between checks for missing delivery receipts. @default 300_000 */
  readonly receiptCheckIntervalMs?: number;
  readonly receipts?: MissingReceiptOptions;
  /** Hour of the day (UTC) the SMS reconciliation against Twilio runs at (the previous 24 h). @default 5 */
  readonly reconciliationHourUtc?: number;
  /** @default Date.now */
  readonly clock?: Clock;
  /** @default the global setTimeout/clearTimeout (vitest's fake timers work with them) */
  readonly timers?: Timers;
  /** For the monitor's jitter. @default Math.random */
  readonly random?: () => number;
}

const day = 24 * 3_600_000;
const defaults = { outboxIntervalMs: 1500, sweepIntervalMs: 30_000, retentionHourUtc: 4, receiptCheckIntervalMs: 300_000, reconciliationHourUtc: 5 };

/**
 * Every background loop of the app, started from main.ts and stopped on shutdown:
 *
 * - the outbox worker, every 1.5 s on every instance (rows are claimed with SKIP LOCKED);
 * - the sweep, every 30 s on every instance: drains the inbox spool, queues abandoned
 *   inbox rows and deliveries again (see sweep.ts);
 * - the runtime monitor, every 5 min on one instance per round (see app-monitor.ts), with
 *   the data invariants also checked at start;
 * - retention, daily at 04:00 UTC on one instance (see retention.ts);
 * - missing delivery receipts looked up every 5 min, and the SMS reconciliation against
 *   Twilio's list daily at 05:00 UTC, each on one instance per round (see delivery-watch.ts).
 *
 * The lock is Redis when configured, else PostgreSQL advisory locks, else none (PGlite is
 * a single process). No loop ever throws: failures are logged and the loop carries on.
 */
export class Scheduler {
  readonly outboxWorker: OutboxWorker;
  readonly monitor: AppMonitor;
  private readonly outboxTask: PeriodicTask;
  private readonly sweepTask: PeriodicTask;
  private readonly receiptTask: PeriodicTask;
  private readonly reconciliationTask: PeriodicTask;
  private readonly retentionTask: PeriodicTask;
  private readonly schedulerLock: SchedulerLock;
  private readonly clock: Clock;
  private started = false;

  constructor(
    private readonly ctx: AppContext,
    private readonly options: SchedulerOptions = {},
  ) {
    const { config, logger } = ctx;
    const clock = (this.clock = options.clock ?? { now: () => Date.now() });
    const timing = { clock, logger, ...(options.timers === undefined ? {} : { timers: options.timers }) };
    this.schedulerLock =
      options.lock === undefined
        ? createSchedulerLock({
            ...(options.redis === undefined ? {} : { redis: options.redis }),
            ...(config.env.DATABASE_URL === undefined ? {} : { databaseUrl: config.env.DATABASE_URL }),
            keyPrefix: options.redisKeyPrefix ?? 'hardening-app',
            logger,
          })
        : { kind: options.lock.kind, lock: options.lock, close: async () => {} };
    const publicBase = config.env.PUBLIC_BASE_URL?.replace(/\/+$/, '');

    this.outboxWorker = new OutboxWorker({
      db: ctx.db.prisma,
      sender: ctx.sms,
      safeCall: ctx.safeCall,
      logger,
      alert: ctx.alert,
      deliverability: ctx.deliverability,
      ...(publicBase === undefined
        ? {}
        : { statusCallbackUrl: (outboxId: string) => `${publicBase}/api/twilio/message-status?outboxId=${encodeURIComponent(outboxId)}` }),
      ...options.outbox,
    });
    const batchSize = options.outbox?.batchSize ?? 25;
    this.outboxTask = new PeriodicTask({
      name: 'outbox worker',
      run: async () => {
        const round = await this.outboxWorker.runOnce();
        this.count(round);
        return Object.values(round).reduce((sum, n) => sum + n, 0) >= batchSize;
      },
      nextDelayMs: () => options.outboxIntervalMs ?? defaults.outboxIntervalMs,
      ...timing,
    });

    this.sweepTask = new PeriodicTask({
      name: 'sweep',
      run: async () => {
        await sweepOnce(ctx, { ...options.sweep, now: () => clock.now() });
      },
      nextDelayMs: () => options.sweepIntervalMs ?? defaults.sweepIntervalMs,
      ...timing,
    });

    this.monitor = createAppMonitor({
      db: ctx.db.prisma,
      alerts: ctx.alerts,
      systemNumber: config.systemNumber,
      spoolSize: () => ctx.spool.size(),
      poolLowThreshold: config.env.POOL_LOW_THRESHOLD,
      ...options.monitor,
      ...(this.schedulerLock.lock === undefined ? {} : { lock: this.schedulerLock.lock }),
      ...timing,
      ...(options.random === undefined ? {} : { random: options.random }),
    });

    const receiptEvery = options.receiptCheckIntervalMs ?? defaults.receiptCheckIntervalMs;
    this.receiptTask = new PeriodicTask({
      name: 'missing receipts',
      run: async () => {
        await this.onOneInstance('sms-receipts', Math.floor(clock.now() / receiptEvery), receiptEvery, () =>
          checkMissingReceipts(this.watchDeps(), options.receipts),
        );
      },
      nextDelayMs: () => receiptEvery,
      ...timing,
    });
    const reconciliationHour = options.reconciliationHourUtc ?? defaults.reconciliationHourUtc;
    this.reconciliationTask = new PeriodicTask({
      name: 'sms reconciliation',
      run: async () => {
        await this.onOneInstance('sms-reconciliation', Math.floor(clock.now() / day), day, () => reconcileDeliveries(this.watchDeps()));
      },
      nextDelayMs: (now) => nextDailyRunAt(now, reconciliationHour) - now,
      ...timing,
    });

    const hourUtc = options.retentionHourUtc ?? defaults.retentionHourUtc;
    this.retentionTask = new PeriodicTask({
      name: 'retention',
      run: async () => {
        await this.retentionRound();
      },
      nextDelayMs: (now) => nextDailyRunAt(now, hourUtc) - now,
      ...timing,
    });
  }

  /** What the delivery watch needs, from the context. */
  private watchDeps(): DeliveryWatchDeps {
    const { ctx } = this;
    return {
      db: ctx.db.prisma,
      sender: ctx.sms,
      safeCall: ctx.safeCall,
      deliverability: ctx.deliverability,
      logger: ctx.logger,
      alert: ctx.alert,
      alerts: ctx.alerts,
      now: () => this.clock.now(),
    };
  }

  /** Runs `work` when this instance gets round `round` of `name` (or there is no lock). */
  private async onOneInstance(name: string, round: number, ttlMs: number, work: () => Promise<unknown>): Promise<void> {
    const lock = this.schedulerLock.lock;
    if (lock !== undefined && !(await lock.tryAcquire({ name, round, ttlMs }))) return;
    await work();
  }

  /** Which lock decides the monitor's and retention's rounds. */
  get lockKind(): SchedulerLock['kind'] {
    return this.schedulerLock.kind;
  }

  /**
   * Starts every loop; checks the data invariants first (each violation logged and alerted).
   *
   * @returns The invariant violations found at start.
   */
  async start(): Promise<InvariantViolation[]> {
    if (this.started) return [];
    this.started = true;
    const violations = await this.monitor.start();
    this.outboxTask.start();
    this.sweepTask.start();
    this.retentionTask.start();
    this.receiptTask.start();
    this.reconciliationTask.start();
    this.ctx.logger.info(
      { lock: this.schedulerLock.kind, invariantViolations: violations.length, monitorIntervalMs: this.monitor.status().intervalMs },
      'scheduler started: outbox worker, sweep, runtime monitor, retention',
    );
    return violations;
  }

  /**
   * Stops every loop, waits for running rounds, and closes the lock's session.
   *
   * With `waitMs` (shutdown), the wait is bounded: a round still running past it (one stuck
   * on a hung database, whose queries have no client-side deadline) is no longer waited for,
   * and a warning names the loops left behind. Nothing is lost by leaving: a round's work
   * lives in the outbox and the inbox, and a row claimed but not finished is claimed again
   * by another instance once its claim is stale.
   *
   * @param options - `waitMs`: how long to wait for running rounds and the lock's session
   *   (default: as long as they take).
   * @returns `true` when every round finished, `false` when some were left running.
   * @example
   * ```ts
   * shutdown.addCleanup('scheduler', () => scheduler.stop({ waitMs: 5000 }), { timeoutMs: 10_000 });
   * ```
   */
  async stop(options: { readonly waitMs?: number } = {}): Promise<boolean> {
    this.started = false;
    const loops: Array<[string, Promise<unknown>]> = [
      ['outbox worker', this.outboxTask.stop()],
      ['sweep', this.sweepTask.stop()],
      ['retention', this.retentionTask.stop()],
      ['missing receipts', this.receiptTask.stop()],
      ['sms reconciliation', this.reconciliationTask.stop()],
      ['runtime monitor', this.monitor.stop().then(() => this.monitor.settled())],
    ];
    const running = new Set(loops.map(([name]) => name));
    const all = Promise.all(loops.map(([name, done]) => done.finally(() => running.delete(name))));
    const finished = await settlesWithin(all, options.waitMs);
    const lockClosed = await settlesWithin(this.schedulerLock.close(), finished ? options.waitMs : 0);
    if (!finished || !lockClosed) {
      this.ctx.logger.warn(
        { event: 'scheduler.stop_abandoned', waitMs: options.waitMs, stillRunning: [...running], lockClosed },
        `scheduler: stopped without waiting for ${[...running].join(', ') || 'the lock session'} (no answer within ${options.waitMs} ms, the database hung?); their rows stay in the outbox and inbox and are processed by the next instance`,
      );
    }
    return finished && lockClosed;
  }

  /** Resolves when no loop is running a round (for tests under fake timers and shutdown). */
  async settled(): Promise<void> {
    await Promise.all([
      this.outboxTask.settled(),
      this.sweepTask.settled(),
      this.retentionTask.settled(),
      this.receiptTask.settled(),
      this.reconciliationTask.settled(),
      this.monitor.settled(),
    ]);
  }

  /** Runs an outbox round now (joins one in progress). */
  runOutboxNow(): Promise<void> {
    return this.outboxTask.runNow();
  }

  /** Runs a sweep now (joins one in progress). */
  runSweepNow(): Promise<void> {
    return this.sweepTask.runNow();
  }

  /**
   * Today's retention round, if this instance gets it (the lock); logs and rethrows a failure.
   *
   * @returns What was deleted, or undefined when another instance has the round.
   */
  async retentionRound(): Promise<RetentionReport | undefined> {
    const now = this.clock.now();
    const lock = this.schedulerLock.lock;
    if (lock !== undefined && !(await lock.tryAcquire({ name: 'retention', round: Math.floor(now / day), ttlMs: day }))) {
      this.ctx.logger.info({}, 'retention: another instance has today’s round');
      return undefined;
    }
    return runRetention(
      { db: this.ctx.db.prisma, idempotencyStore: this.ctx.idempotencyStore, logger: this.ctx.logger, now: () => now },
      this.options.retention,
    );
  }

  private count(round: OutboxRound): void {
    for (const [outcome, n] of Object.entries(round)) if (n > 0) this.ctx.metrics.outbox.inc({ outcome }, n);
  }
}
