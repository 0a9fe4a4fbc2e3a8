import { randomUUID } from 'node:crypto';
import type { AlertMessage, AlertResult } from '../alert.js';
import type { GroupMember } from '../aggregator.js';
import { Aggregator } from '../aggregator.js';
import { describeError } from '../delivery.js';
import type { AlertRuntime } from '../runtime.js';
import type { TrackedDelivery } from '../store/alert-store.js';

/**
 * The pseudo-sink of group members handed to another instance's group: one row per member
 * in the durable store's delivery table, settled by whoever sends it (the group's leader,
 * or the member's own instance taking it back, or any maintenance round once overdue).
 */
export const groupMemberSink = 'alerting.group-member';

/** The internal claim type of a group's leadership (one group per alert type and wait). */
const leaderClaimType = 'alerting.group-leader';

/** A group this process takes part in. */
interface OpenGroup {
  readonly role: 'leader' | 'follower';
  readonly groupId: string;
  /** End of the group's wait (epoch ms, on the service clock). */
  readonly endsAt: number;
}

/** What {@link FleetGroups} needs besides the runtime. */
export interface FleetGroupsOptions {
  /** Delivers members as one message (or one alone); one result per member, in order. */
  readonly deliver: (members: readonly GroupMember[]) => Promise<AlertResult[]>;
  readonly resultOf: (message: AlertMessage, status: 'failed' | 'resolved' | 'delivered', reason: string) => AlertResult;
  /**
   * How long past the group's end a follower waits for the leader to take its member
   * before taking it back (then it is sent alone, not lost).
   */
  readonly graceMs: number;
}

/**
 * Aggregation groups that span instances. The first instance to raise an alert of a
 * grouped type claims the group's leadership in the store (one claim per type, for
 * `groupWaitMs`); alerts of that type raised meanwhile on other instances are appended to
 * the store as members of the leader's group. When the wait ends the leader takes every
 * member row (atomically: a row is taken once) and sends one message for the whole group,
 * fleet-wide. A follower's caller resolves once the leader took its member (`delivered`,
 * with the reason saying so), or, when the leader did not take it within `graceMs` of the
 * group's end (leader slow or gone), the follower takes it back and sends it alone. A
 * member whose instance died too is sent by any instance's maintenance round once overdue.
 * With the memory store, or a store that cannot list deliveries, groups stay per instance.
 */
export class FleetGroups {
  private readonly local: Aggregator;
  private readonly open = new Map<string, OpenGroup>();
  /** Leadership claims in flight, per type: alerts of one type raised at once in this process make one claim. */
  private readonly joining = new Map<string, Promise<OpenGroup | undefined>>();

  constructor(
    private readonly runtime: AlertRuntime,
    private readonly options: FleetGroupsOptions,
  ) {
    this.local = new Aggregator({
      deliver: (members) => this.leaderDeliver(members),
      resultOf: (message, status, reason) => options.resultOf(message, status, reason),
      logger: runtime.logger,
    });
  }

  /**
   * Adds a member to its type's group (fleet-wide when the store allows).
   *
   * @param member - The alert and its won claim.
   * @param waitMs - The type's `groupWaitMs`.
   * @returns The member's result.
   */
  async add(member: GroupMember, waitMs: number): Promise<AlertResult> {
    const { runtime } = this;
    const { message } = member;
    // A memory store serves one process: its groups are this process's (no store round trip).
    if (runtime.durable.listPendingDeliveries === undefined || runtime.store.kind === 'memory') return this.local.add(member, waitMs);
    const group = await this.groupFor(message.type, waitMs);
    const now = runtime.clock.now();
    if (group === undefined) return this.local.add(member, waitMs);
    if (group.role === 'leader') return this.local.add(member, Math.max(0, group.endsAt - now));
    return this.follow(member, group, now);
  }

  /** The open group of `type` in this process, or a new one (leader or follower); `undefined` when the store cannot say. */
  private async groupFor(type: string, waitMs: number): Promise<OpenGroup | undefined> {
    const open = this.open.get(type);
    if (open !== undefined && open.endsAt > this.runtime.clock.now()) return open;
    const pending = this.joining.get(type);
    if (pending !== undefined) return pending;
    const joining = this.claimGroup(type, waitMs).finally(() => this.joining.delete(type));
    this.joining.set(type, joining);
    return joining;
  }

  private async claimGroup(type: string, waitMs: number): Promise<OpenGroup | undefined> {
    const { runtime } = this;
    const now = runtime.clock.now();
    const groupId = randomUUID();
    let claim;
    try {
      claim = await runtime.storeCall('primary', () =>
        runtime.store.claim({
          alertId: groupId,
          type: leaderClaimType,
          key: type,
          resourceId: undefined,
          severity: 'LOW',
          title: 'group leader',
          payload: '{}',
          now,
          windowMs: waitMs,
        }),
      );
    } catch (error) {
      runtime.logger.warn(
        { type, err: describeError(error) },
        'alerting: group leadership could not be claimed (store unavailable); grouping in this instance only',
      );
      return undefined;
    }
    const group: OpenGroup = claim.claimed
      ? { role: 'leader', groupId, endsAt: now + waitMs }
      : { role: 'follower', groupId: claim.alertId, endsAt: claim.expiresAt };
    this.open.set(type, group);
    return group;
  }

  /** Sends every group this process leads now. */
  flushAll(): Promise<void> {
    return this.local.flushAll();
  }

  /** A resolved key leaves the local group (see {@link Aggregator.drop}). */
  drop(type: string, key: string): void {
    this.local.drop(type, key);
  }

  /**
   * A member row nobody took in time (its instance and the leader both gone): sent alone.
   *
   * @param delivery - The overdue row, taken by this instance.
   */
  async deliverOrphan(delivery: TrackedDelivery): Promise<void> {
    const member = JSON.parse(delivery.payload) as GroupMember;
    this.runtime.logger.warn({ type: member.message.type, alertId: member.message.id }, 'alerting: a grouped alert nobody sent in time is sent alone now');
    await this.options.deliver([member]);
  }

  /** This process follows another instance's group: hand the member over, then check it was taken. */
  private async follow(member: GroupMember, group: OpenGroup, now: number): Promise<AlertResult> {
    const { runtime } = this;
    const deliveryId = `group-member:${group.groupId}:${member.message.id}`;
    try {
      await runtime.durableCall(() =>
        runtime.durable.trackDelivery({
          deliveryId,
          alertId: group.groupId,
          type: member.message.type,
          key: member.message.key,
          sink: groupMemberSink,
          status: 'pending',
          payload: JSON.stringify(member),
          sentAt: now,
          deadlineAt: group.endsAt + this.options.graceMs + 60_000,
        }),
      );
    } catch (error) {
      runtime.logger.warn({ type: member.message.type, err: describeError(error) }, 'alerting: could not join the fleet group (store unavailable); sent alone');
      return (await this.options.deliver([member]))[0]!;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, group.endsAt - now) + this.options.graceMs).unref?.());
    const takenBack = await runtime
      .durableCall(() => runtime.durable.settleDelivery({ deliveryId, status: 'delivered', at: runtime.clock.now() }))
      .catch(() => undefined);
    if (takenBack !== undefined) {
      runtime.logger.warn({ type: member.message.type, groupId: group.groupId }, 'alerting: the group leader did not take this alert in time; sent alone');
      return (await this.options.deliver([member]))[0]!;
    }
    return this.options.resultOf(
      member.message,
      'delivered',
      `handed to the group ${group.groupId} led by another instance, which sends it (and queues it if no sink takes it)`,
    );
  }

  /** The leader's group is due: take the members other instances appended, send them all as one. */
  private async leaderDeliver(members: readonly GroupMember[]): Promise<AlertResult[]> {
    const { runtime } = this;
    const type = members[0]!.message.type;
    const group = this.open.get(type);
    const remote: GroupMember[] = [];
    if (group?.role === 'leader') {
      this.open.delete(type);
      const list = runtime.durable.listPendingDeliveries!.bind(runtime.durable);
      try {
        const rows = await runtime.durableCall(() => list({ sink: groupMemberSink, limit: 1000 }));
        for (const row of rows.filter((r) => r.alertId === group.groupId)) {
          // Settling is atomic: a row its follower took back is not sent here too.
          const taken = await runtime
            .durableCall(() => runtime.durable.settleDelivery({ deliveryId: row.deliveryId, status: 'delivered', at: runtime.clock.now() }))
            .catch(() => undefined);
          if (taken !== undefined) remote.push(JSON.parse(taken.payload) as GroupMember);
        }
      } catch (error) {
        runtime.logger.warn({ type, err: describeError(error) }, "alerting: could not read the fleet group's members; their instances send them alone");
      }
      await runtime
        .storeCall('primary', () => runtime.store.release({ type: leaderClaimType, key: type, alertId: group.groupId, at: runtime.clock.now() }))
        .catch(() => undefined);
    }
    const results = await this.options.deliver([...members, ...remote]);
    return results.slice(0, members.length);
  }
}
