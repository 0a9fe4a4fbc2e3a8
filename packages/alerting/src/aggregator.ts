import type { Logger } from '@hardening/core';
import type { AlertMessage, AlertResult } from './alert.js';
import type { GateClaim } from './claims/claim-gate.js';
import { describeError } from './delivery.js';

/** An alert that won its dedup claim, waiting in its type's group. */
export interface GroupMember {
  readonly message: AlertMessage;
  readonly claim: GateClaim;
}

/** What the {@link Aggregator} needs from the service. */
export interface AggregatorOptions {
  /** Delivers the members as one message (or one alone); resolves with one result per member, in order. */
  readonly deliver: (members: readonly GroupMember[]) => Promise<AlertResult[]>;
  /** The result of a member with `status` (`failed` when delivery threw, `resolved` when dropped). */
  readonly resultOf: (message: AlertMessage, status: 'failed' | 'resolved', reason: string) => AlertResult;
  readonly logger: Logger;
}

interface PendingGroup {
  readonly members: Array<GroupMember & { resolve: (result: AlertResult) => void }>;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Aggregation of alerts per type: the first alert of a type opens a group that waits
 * `groupWaitMs`, then every member goes out as one message. Each caller's promise resolves
 * with its own member's result.
 *
 * @example
 * ```ts
 * const groups = new Aggregator({ deliver: (members) => deliverAlerts(members), resultOf, logger });
 * const result = await groups.add({ message, claim }, 30_000);
 * ```
 */
export class Aggregator {
  private readonly groups = new Map<string, PendingGroup>();

  constructor(private readonly options: AggregatorOptions) {}

  /**
   * Adds a member to its type's group, opening the group (and its timer) if needed.
   *
   * @param member - The alert and its claim.
   * @param waitMs - How long a new group waits before it is sent.
   * @returns The member's result, once its group was sent.
   */
  add(member: GroupMember, waitMs: number): Promise<AlertResult> {
    const { message, claim } = member;
    return new Promise((resolve) => {
      let group = this.groups.get(message.type);
      if (group === undefined) {
        group = { members: [], timer: undefined };
        this.groups.set(message.type, group);
        group.timer = setTimeout(() => void this.flush(message.type), waitMs);
        group.timer.unref?.();
      }
      group.members.push({ message, claim, resolve });
    });
  }

  /**
   * Sends one type's group now. A delivery that throws resolves every member as `failed`.
   *
   * @param type - The alert type.
   */
  async flush(type: string): Promise<void> {
    const group = this.groups.get(type);
    if (group === undefined) return;
    this.groups.delete(type);
    if (group.timer !== undefined) clearTimeout(group.timer);
    if (group.members.length === 0) return;
    try {
      const results = await this.options.deliver(group.members);
      group.members.forEach((member, index) => member.resolve(results[index]!));
    } catch (error) {
      this.options.logger.error(
        { type, size: group.members.length, err: describeError(error) },
        `ALERT LOST: aggregated ${type} alerts could not be delivered`,
      );
      for (const member of group.members) member.resolve(this.options.resultOf(member.message, 'failed', describeError(error)));
    }
  }

  /** Sends every group now. */
  async flushAll(): Promise<void> {
    await Promise.all([...this.groups.keys()].map((type) => this.flush(type)));
  }

  /**
   * A resolved key must not go out later as part of a pending group: its members leave the
   * group, resolved as `resolved`.
   *
   * @param type - The alert type.
   * @param key - The alert key.
   */
  drop(type: string, key: string): void {
    const group = this.groups.get(type);
    if (group === undefined) return;
    for (let i = group.members.length - 1; i >= 0; i--) {
      const member = group.members[i]!;
      if (member.message.key === key) {
        group.members.splice(i, 1);
        member.resolve(this.options.resultOf(member.message, 'resolved', 'resolved before its group was sent'));
      }
    }
  }
}
