import type { Acknowledgements } from '../acknowledgements/acknowledgements.js';
import { ackSink, ackableSink } from '../acknowledgements/acknowledgements.js';
import type { MaintenanceReport } from '../alert-service-options.js';
import type { ClaimGate } from '../claims/claim-gate.js';
import { describeError } from '../delivery.js';
import { DeliveryUnconfirmedError } from '../errors/delivery-unconfirmed-error.js';
import type { Escalator } from '../escalation/escalator.js';
import { escalationSink } from '../escalation/escalator.js';
import type { FleetGroups } from '../grouping/fleet-groups.js';
import { groupMemberSink } from '../grouping/fleet-groups.js';
import { pendingSink } from '../pending-pages.js';
import type { AlertRuntime } from '../runtime.js';
import type { SharedSilences } from '../shared-silences.js';
import { silenceSink } from '../shared-silences.js';
import type { TrackedDelivery } from '../store/alert-store.js';
import type { PendingRetries } from './pending-retries.js';
import type { SelfWatch } from './self-watch.js';
import type { SmsFailover } from './sms-failover.js';

/** The parts a maintenance round drives. */
export interface MaintenanceRoundParts {
  readonly gate: ClaimGate;
  readonly pending: PendingRetries;
  readonly failover: SmsFailover;
  readonly shared: SharedSilences;
  readonly selfWatch: SelfWatch;
  readonly escalator: Escalator;
  readonly acks: Acknowledgements;
  readonly groups: FleetGroups;
  /** Writes the history rows kept while the store was unavailable (each round). */
  readonly retryHistory: () => Promise<void>;
  /** History kept. */
  readonly historyRetentionMs: number;
  /** How often the history is pruned. */
  readonly pruneEveryMs: number;
}

/**
 * One maintenance round, safe on every instance (the store decides each item once): writes
 * claims won in memory while the stores were down, takes due rows of the durable delivery
 * table (SMS without a receipt in time fall back, pending pages are retried, escalation
 * timers fire), reads shared silences and acknowledgements, watches the alert system
 * itself, escalates by the default policy, and prunes the history hourly. Each step's
 * failure is logged and the next step still runs.
 */
export class MaintenanceRound {
  private lastPruneAt = 0;

  constructor(
    private readonly runtime: AlertRuntime,
    private readonly parts: MaintenanceRoundParts,
  ) {}

  /**
   * Runs the round.
   *
   * @returns Counts of what it did.
   */
  async run(): Promise<MaintenanceReport> {
    const { runtime, parts } = this;
    const now = runtime.clock.now();
    let escalated = 0;
    let unconfirmed = 0;
    let retried = 0;
    const replayed = await parts.gate.replay();
    await parts.retryHistory();
    await parts.acks.refresh(now);
    try {
      const overdue = await runtime.durableCall(() => runtime.durable.takeOverdueDeliveries({ at: now, limit: 100 }));
      for (const delivery of [...overdue, ...(await parts.pending.queue.takeLocal(now))]) {
        const done = await this.take(delivery, now);
        retried += done.retried;
        unconfirmed += done.unconfirmed;
        escalated += done.escalated;
      }
    } catch (error) {
      runtime.logger.warn({ err: describeError(error) }, 'alerting maintenance: checking SMS receipts, pending pages and escalation timers failed');
      for (const delivery of await parts.pending.queue.takeLocal(now)) {
        retried++;
        await parts.pending.queue.retry(delivery, now);
      }
    }
    await parts.pending.queue.recount();
    await parts.shared.sync().catch((error) => runtime.logger.warn({ err: describeError(error) }, 'alerting maintenance: reading shared silences failed'));
    await parts.selfWatch.check(now).catch((error) => runtime.logger.warn({ err: describeError(error) }, 'alerting maintenance: self-check failed'));
    try {
      escalated += await parts.escalator.escalateDefault(now);
    } catch (error) {
      runtime.logger.warn({ err: describeError(error) }, 'alerting maintenance: escalation failed');
    }
    const pruned = await this.prune(now);
    return { escalated, unconfirmed, pruned, retried, pending: parts.pending.queue.summary.count, replayed };
  }

  /** One due row of the delivery table, by what it is. */
  private async take(delivery: TrackedDelivery, now: number): Promise<{ retried: number; unconfirmed: number; escalated: number }> {
    const { parts } = this;
    switch (delivery.sink) {
      case silenceSink:
      case ackSink:
      case ackableSink:
        // A silence reached its end; an acknowledgement, or an alert's index row, lapsed.
        return { retried: 0, unconfirmed: 0, escalated: 0 };
      case groupMemberSink:
        // A grouped alert neither its instance nor the group's leader sent in time.
        await parts.groups.deliverOrphan(delivery);
        return { retried: 0, unconfirmed: 0, escalated: 0 };
      case pendingSink:
        await parts.pending.queue.retry(delivery, now);
        return { retried: 1, unconfirmed: 0, escalated: 0 };
      case escalationSink: {
        const escalated = await parts.escalator.fire(delivery, now).catch((error) => {
          this.runtime.logger.warn({ type: delivery.type, err: describeError(error) }, 'alerting maintenance: an escalation step failed');
          return 0;
        });
        return { retried: 0, unconfirmed: 0, escalated };
      }
      default:
        await parts.failover.failOver(delivery, new DeliveryUnconfirmedError(delivery.sink, delivery.deliveryId, 'timeout'));
        return { retried: 0, unconfirmed: 1, escalated: 0 };
    }
  }

  private async prune(now: number): Promise<boolean> {
    const { runtime, parts } = this;
    if (now - this.lastPruneAt < parts.pruneEveryMs) return false;
    try {
      const cutoff = { historyBefore: now - parts.historyRetentionMs, idleBefore: now - parts.historyRetentionMs };
      await runtime.storeCall('primary', () => runtime.store.prune(cutoff));
      if (runtime.durable !== runtime.store) await runtime.durableCall(() => runtime.durable.prune(cutoff));
      this.lastPruneAt = now;
      return true;
    } catch (error) {
      runtime.logger.warn({ err: describeError(error) }, 'alerting maintenance: pruning failed');
      return false;
    }
  }
}
