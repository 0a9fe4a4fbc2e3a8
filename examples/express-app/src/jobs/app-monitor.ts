import { RuntimeMonitor, type AlertSender, type Clock, type MonitorLock, type RoundReport } from '@hardening/alerting';
import type { Logger, Timers } from '@hardening/core';
import type { AlertInput } from '../alerts/alert-input.js';
import type { Db } from '../db/database.js';
import { dataInvariants } from '../domain/invariants.js';
import { poolLevel } from '../domain/number-pool.js';
import { stuckClientDetectors } from '../domain/stuck-clients.js';

/** Options of {@link createAppMonitor}. */
export interface AppMonitorOptions {
  readonly db: Db;
  /** The alert service (INVARIANT_VIOLATION, STUCK_CLIENT, PAYMENT_BLOCK, POOL_LOW...). */
  readonly alerts: AlertSender;
  readonly logger: Logger;
  /** The system onboarding number (TWILIO_FROM_NUMBER), for the invariants. */
  readonly systemNumber: string;
  /** Webhook events waiting in the spool, when there is one. */
  readonly spoolSize?: () => Promise<number>;
  /** One instance runs each round; none on a single process (PGlite). */
  readonly lock?: MonitorLock;
  /** @default 300_000 (5 min) */
  readonly intervalMs?: number;
  /** @default min(30 s, intervalMs / 10) */
  readonly jitterMs?: number;
  /** POOL_LOW (MEDIUM) below this many AVAILABLE client numbers; HIGH at 0. @default 3 */
  readonly poolLowThreshold?: number;
  /** Outbox or inbox rows waiting longer than this are a backlog. @default 600_000 (10 min) */
  readonly backlogAgeMs?: number;
  /** Dead letters counted over this window. @default 86_400_000 (24 h) */
  readonly deadLetterWindowMs?: number;
  /** @default Date.now */
  readonly clock?: Clock;
  /** @default the global timers */
  readonly timers?: Timers;
  /** @default Math.random */
  readonly random?: () => number;
}

const minute = 60_000;
const hour = 60 * minute;
const defaults = { intervalMs: 5 * minute, poolLowThreshold: 3, backlogAgeMs: 10 * minute, deadLetterWindowMs: 24 * hour };

/** A condition that is either raised (with its alert) or clear (its alert resolved). */
async function raiseOrResolve(
  alerts: AlertSender,
  type: string,
  resourceId: string,
  alert: Omit<AlertInput, 'type' | 'resourceId'> | undefined,
): Promise<void> {
  if (alert === undefined) await alerts.resolveAlert({ type, resourceId });
  else await alerts.sendCriticalAlert({ ...alert, type, resourceId });
}

/**
 * A {@link RuntimeMonitor} whose rounds can be awaited (`settled()`), for shutdown and tests
 * under fake timers: the monitor schedules rounds through `runRound`, which this wraps.
 */
export class AppMonitor extends RuntimeMonitor {
  private readonly inFlight = new Set<Promise<RoundReport>>();

  override runRound(at?: number): Promise<RoundReport> {
    const round = super.runRound(at);
    this.inFlight.add(round);
    void round.finally(() => this.inFlight.delete(round));
    return round;
  }

  /** Resolves when no round is running. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}

/**
 * The app's runtime monitor, every 5 minutes on one instance at a time (the lock):
 *
 * - `stuck-clients`: onboarding clients past their state's limit (STUCK_CLIENT, with S9 terminal;
 *   PAYMENT_BLOCK after 2 h in S5), each re-alerted at most every 6 h;
 * - `number-pool`: AVAILABLE client numbers below the threshold (POOL_LOW MEDIUM; HIGH at 0);
 * - `outbox`: SMS waiting over 10 min (OUTBOX_BACKLOG, HIGH after an hour) and dead letters in
 *   the last 24 h (DEAD_LETTERS);
 * - `inbox`: inbound SMS unprocessed over 10 min (INBOX_BACKLOG, HIGH), dead-lettered inbound
 *   SMS and jobs in the last 24 h (DEAD_LETTERS), webhook events stuck in the spool
 *   (INBOX_SPOOLED);
 * - `invariants`: the data invariants (INVARIANT_VIOLATION per broken rule; one the database
 *   cannot check is no violation: INVARIANT_UNCHECKED, MEDIUM, after three rounds), also
 *   checked at start-up by `start()`.
 *
 * Each condition's alert is resolved when it clears. The alert service deduplicates: a
 * condition that stays true is reminded after its window, not every round.
 */
export function createAppMonitor(options: AppMonitorOptions): AppMonitor {
  const { db, alerts, logger } = options;
  const clock = options.clock ?? { now: () => Date.now() };
  const threshold = options.poolLowThreshold ?? defaults.poolLowThreshold;
  const backlogAgeMs = options.backlogAgeMs ?? defaults.backlogAgeMs;
  const deadLetterWindowMs = options.deadLetterWindowMs ?? defaults.deadLetterWindowMs;
  const monitor = new AppMonitor({
    name: 'app-monitor',
    intervalMs: options.intervalMs ?? defaults.intervalMs,
    ...(options.jitterMs === undefined ? {} : { jitterMs: options.jitterMs }),
    ...(options.lock === undefined ? {} : { lock: options.lock }),
    ...(options.timers === undefined ? {} : { timers: options.timers }),
    ...(options.random === undefined ? {} : { random: options.random }),
    alerts,
    logger,
    clock,
  });

  const detectors = stuckClientDetectors(db, { alerts, clock });
  monitor.register('stuck-clients', async () => {
    for (const detector of detectors) await detector.check();
  });

  monitor.register('number-pool', async () => {
    const { available } = await poolLevel(db);
    const message = `${available} client number(s) AVAILABLE (threshold ${threshold}). New clients cannot finish onboarding without one: buy numbers and add them (POST /api/admin/numbers).`;
    await raiseOrResolve(alerts, 'POOL_LOW', 'pool:empty', available === 0 ? { severity: 'HIGH', title: 'Number pool is empty', message } : undefined);
    if (available > 0) {
      await raiseOrResolve(
        alerts,
        'POOL_LOW',
        'pool:low',
        available < threshold ? { severity: 'MEDIUM', title: `Number pool low: ${available} left`, message } : undefined,
      );
    }
  });

  monitor.register('outbox', async () => {
    const now = clock.now();
    const waiting = { status: { in: ['pending', 'failed', 'unknown', 'sending'] }, createdAt: { lt: new Date(now - backlogAgeMs) } };
    const [backlog, oldest, dead] = await Promise.all([
      db.outboundMessage.count({ where: waiting }),
      db.outboundMessage.findFirst({ where: waiting, orderBy: { createdAt: 'asc' }, select: { createdAt: true } }),
      db.outboundMessage.count({ where: { status: 'dead_letter', createdAt: { gte: new Date(now - deadLetterWindowMs) } } }),
    ]);
    const ageMin = oldest === null ? 0 : Math.round((now - oldest.createdAt.getTime()) / minute);
    await raiseOrResolve(
      alerts,
      'OUTBOX_BACKLOG',
      'outbox',
      backlog === 0
        ? undefined
        : {
            severity: ageMin >= 60 ? 'HIGH' : 'MEDIUM',
            title: `${backlog} SMS waiting to be sent`,
            message: `${backlog} outbound SMS have waited over ${Math.round(backlogAgeMs / minute)} min (oldest ${ageMin} min): Twilio failing, its breaker open, or the worker stopped.`,
          },
    );
    await raiseOrResolve(
      alerts,
      'DEAD_LETTERS',
      'outbox',
      dead === 0
        ? undefined
        : {
            severity: 'MEDIUM',
            title: `${dead} SMS dead-lettered in ${Math.round(deadLetterWindowMs / hour)} h`,
            message: `${dead} outbound SMS could not be sent (MESSAGE LOST in the logs): see the outbox rows with status dead_letter.`,
          },
    );
  });

  monitor.register('inbox', async () => {
    const now = clock.now();
    const since = new Date(now - deadLetterWindowMs);
    const [backlog, deadInbound, deadJobs, spooled] = await Promise.all([
      db.inboundEvent.count({ where: { status: { in: ['received', 'failed', 'processing'] }, createdAt: { lt: new Date(now - backlogAgeMs) } } }),
      db.inboundEvent.count({ where: { status: 'dead_letter', createdAt: { gte: since } } }),
      db.webhookDelivery.count({ where: { status: 'dead_letter', updatedAt: { gte: since } } }),
      options.spoolSize?.() ?? Promise.resolve(0),
    ]);
    await raiseOrResolve(
      alerts,
      'INBOX_BACKLOG',
      'inbox',
      backlog === 0
        ? undefined
        : {
            severity: 'HIGH',
            title: `${backlog} inbound SMS unprocessed`,
            message: `${backlog} inbound SMS have waited over ${Math.round(backlogAgeMs / minute)} min with only the holding reply: processing keeps failing or the queue stopped.`,
          },
    );
    await raiseOrResolve(
      alerts,
      'DEAD_LETTERS',
      'inbox',
      deadInbound + deadJobs === 0
        ? undefined
        : {
            severity: 'MEDIUM',
            title: `${deadInbound + deadJobs} dead letters in ${Math.round(deadLetterWindowMs / hour)} h`,
            message: `${deadInbound} inbound SMS and ${deadJobs} webhook deliveries/jobs failed every attempt: see the delivery log (re-drive from the admin API).`,
          },
    );
    await raiseOrResolve(
      alerts,
      'INBOX_SPOOLED',
      'spool',
      spooled === 0
        ? undefined
        : {
            severity: 'MEDIUM',
            title: `${spooled} webhook events waiting in the spool`,
            message: `${spooled} webhook events could not be written to the database and wait in the spool; the sweep drains it every 30 s once the database answers.`,
          },
    );
  });

  const invariants = dataInvariants(options.systemNumber);
  for (const invariant of invariants) monitor.registerInvariant(invariant.name, () => invariant.check(db));
  // An invariant that could not be checked (the database is down) is neither broken nor
  // fixed: its alert, if any, stays open; INVARIANT_UNCHECKED says it after three rounds.
  monitor.register('invariants', async () => {
    const { holding } = await monitor.verifyInvariants();
    for (const name of holding) await alerts.resolveAlert({ type: 'INVARIANT_VIOLATION', resourceId: name, message: 'The invariant holds again.' });
  });

  return monitor;
}
