import {
  advanceMessageStatus,
  classifyTwilioError,
  isFinalMessageStatus,
  isMessageStatus,
  maskPhoneNumber,
  scrubText,
  twilioErrorCodeOf,
  type MessageStatus,
  type TwilioErrorClass,
} from '@hardening/core';
import { isOptedOut, setOptOut } from './opt-out.js';
import {
  essentialPurposes,
  resolveDeliverabilityOptions,
  type DeliverabilityDeps,
  type DeliverabilityOptions,
  type ResolvedDeliverabilityOptions,
} from './policy.js';
import { HaltedSenders } from './halted-senders.js';
import { activeHalt, claimProbe, haltSender, lastResumedAt, recentErrors, resumeSender, type SenderHalt } from './sender-halt.js';
import { refuseIfSuppressed, suppressRecipient, type SmsPair } from './suppression.js';

/** An outbox row about to be sent, or just sent. */
export interface OutgoingSms {
  readonly id: string;
  readonly fromPhone: string;
  readonly toPhone: string;
  readonly purpose: string;
}

/** What {@link Deliverability.beforeSend} decided. */
export type PreSendDecision =
  | { readonly kind: 'send'; readonly probe: boolean }
  /** Not now: the sender is halted (or the opt-out state unreadable); try again at `until`. */
  | { readonly kind: 'wait'; readonly until: Date; readonly reason: string }
  /** Never from this sender to this recipient (until something changes): the row is closed with `status`. */
  | { readonly kind: 'refuse'; readonly status: 'suppressed' | 'opted_out'; readonly reason: string };

/** What a failed send means for the message, when the rules own it. */
export type SendFailureOutcome =
  | { readonly kind: 'refuse'; readonly status: 'suppressed' | 'opted_out'; readonly reason: string }
  /** The sender is halted: the message waits for the probe, no round spent. */
  | { readonly kind: 'wait'; readonly until: Date; readonly reason: string };

/** A delivery update (status callback or lookup) for an outbox message. */
export interface StatusUpdate {
  readonly outboxId: string;
  readonly messageSid: string;
  readonly status: string;
  readonly errorCode?: string | number | undefined;
  readonly source: 'callback' | 'lookup' | 'reconciliation';
}

/** What {@link Deliverability.onStatus} did. */
export interface StatusOutcome {
  /** The same (MessageSid, MessageStatus) was applied before. */
  readonly duplicate: boolean;
  /** No outbox row has this id and SID. */
  readonly unknownMessage: boolean;
  /** The stored status after the update. */
  readonly status: string | undefined;
  readonly changed: boolean;
}

const errorClassOf = (c: TwilioErrorClass): string => (c.code === undefined ? 'none' : c.scope === 'unknown' ? 'unknown' : `${c.scope}_${c.kind}`);

/**
 * The deliverability rules around every SMS the outbox sends (issue 14): per-recipient
 * suppression of terminal codes, opt-out enforced per (sender, recipient), the sender-wide
 * campaign breaker, and the forward-only delivery-status machine. Each rule's storage lives
 * in its own module (suppression.ts, opt-out.ts, sender-halt.ts); this class decides and
 * wires their effects (alerts, metrics).
 */
export class Deliverability {
  readonly options: ResolvedDeliverabilityOptions;
  /**
   * The halted senders as this process last read them: for a send that cannot read the
   * database (the missed-call fail-safe), kept current by every halt read here and by
   * {@link Deliverability.refreshHalts}.
   */
  readonly halts: HaltedSenders;
  private readonly now: () => number;

  constructor(
    private readonly deps: DeliverabilityDeps,
    options: DeliverabilityOptions = {},
  ) {
    this.options = resolveDeliverabilityOptions(options);
    this.now = deps.now ?? Date.now;
    this.halts = new HaltedSenders({ now: this.now });
  }

  /**
   * Reads every active halt into {@link Deliverability.halts} when the last read is a few
   * seconds old (the outbox loop calls it each round), so every instance knows of a halt
   * another instance wrote even when it sends nothing from that number.
   *
   * @throws What the database throws (what was known is kept).
   */
  refreshHalts(): Promise<boolean> {
    return this.halts.refreshIfStale(this.deps.db);
  }

  /** The active halt of `from`, remembered in {@link Deliverability.halts}. */
  private async haltOf(from: string): Promise<SenderHalt | undefined> {
    const halt = await activeHalt(this.deps.db, from);
    this.halts.remember(from, halt !== undefined);
    return halt;
  }

  /**
   * The pre-send check, before any call to Twilio: opted out (never sent, whatever the
   * purpose), suppressed, sender halted (wait; one message at a time goes as a probe). When
   * the opt-out state cannot be read, a message that is not essential waits (fail-closed)
   * and an essential one goes.
   */
  async beforeSend(sms: OutgoingSms): Promise<PreSendDecision> {
    const pair: SmsPair = { from: sms.fromPhone, to: sms.toPhone };
    const now = new Date(this.now());
    try {
      // The confirmation of a STOP is the one text an opted-out recipient is sent.
      if (sms.purpose !== 'compliance' && (await isOptedOut(this.deps.db, pair))) {
        this.deps.countRefused?.('opted_out');
        return { kind: 'refuse', status: 'opted_out', reason: 'recipient opted out of this sender (STOP)' };
      }
      const suppressed = await refuseIfSuppressed(this.deps.db, pair);
      if (suppressed !== undefined) {
        this.deps.countRefused?.('suppressed');
        return { kind: 'refuse', status: 'suppressed', reason: `recipient suppressed for this sender: Twilio ${suppressed.code} (${suppressed.reason})` };
      }
      const halt = await this.haltOf(sms.fromPhone);
      if (halt !== undefined) {
        if (await claimProbe(this.deps.db, sms.fromPhone, sms.id, now, this.options.probeIntervalMs)) {
          this.deps.logger.info({ outboxId: sms.id, sender: sms.fromPhone }, 'halted sender: this message goes as the probe');
          return { kind: 'send', probe: true };
        }
        this.deps.countRefused?.('halted');
        const until = halt.nextProbeAt.getTime() > now.getTime() ? halt.nextProbeAt : new Date(now.getTime() + this.options.probeIntervalMs);
        return { kind: 'wait', until, reason: `sender halted: Twilio ${halt.errorCode} (${halt.reason})` };
      }
      return { kind: 'send', probe: false };
    } catch (error) {
      if (essentialPurposes.has(sms.purpose)) {
        this.deps.logger.warn({ outboxId: sms.id, purpose: sms.purpose, err: scrubText(String(error)) }, 'opt-out state unreadable: essential SMS sent anyway');
        return { kind: 'send', probe: false };
      }
      this.deps.countRefused?.('unreadable');
      this.deps.logger.warn({ outboxId: sms.id, purpose: sms.purpose, err: scrubText(String(error)) }, 'opt-out state unreadable: SMS held (fail-closed)');
      return { kind: 'wait', until: new Date(now.getTime() + this.options.unreadableRetryMs), reason: 'opt-out state unreadable: held (fail-closed)' };
    }
  }

  /**
   * A send Twilio refused with an error code the rules own: 21610 records the opt-out and
   * closes the message (not an alert), a sender's systemic code halts the sender (and pages
   * once) and the message waits. A recipient's terminal code suppresses the pair, and the
   * message is left to the outbox to dead-letter (with its alert). Anything else too.
   */
  async afterSendError(sms: OutgoingSms, error: unknown): Promise<SendFailureOutcome | undefined> {
    const c = classifyTwilioError(twilioErrorCodeOf(error));
    if (c.code === undefined) return undefined;
    const outcome = await this.applyCode(sms, c, 'send');
    // This message failed for good: it stays the outbox's to dead-letter and alert (someone
    // may hold a wrong number); the suppression spares the next ones the call.
    return outcome?.kind === 'refuse' && outcome.status === 'suppressed' ? undefined : outcome;
  }

  /**
   * A send Twilio took. A probe whose halt was a REST refusal (21408, 21606: Twilio
   * answers at once) proves the sender works again; a halt on a delivery code waits for
   * the probe's delivery receipt.
   */
  async afterSendSuccess(sms: OutgoingSms, probe: boolean): Promise<void> {
    if (!probe) return;
    const halt = await this.haltOf(sms.fromPhone);
    if (halt !== undefined && halt.errorCode < 30_000 && halt.probeOutboxId === sms.id) await this.resume(sms.fromPhone, 'probe');
  }

  /**
   * Applies a delivery update: once per (MessageSid, MessageStatus), forward-only, a final
   * status never overwritten (segment results merged), counted once when final, and the
   * error code's rule applied (opt-out, suppression, halt).
   */
  async onStatus(update: StatusUpdate): Promise<StatusOutcome> {
    const { db } = this.deps;
    if (!isMessageStatus(update.status)) return { duplicate: false, unknownMessage: false, status: undefined, changed: false };
    const c = classifyTwilioError(update.errorCode === undefined || update.errorCode === '' ? undefined : update.errorCode);
    const inserted = await db.smsStatusEvent.createMany({
      data: [{ messageSid: update.messageSid, status: update.status, errorCode: c.code ?? null, source: update.source }],
      skipDuplicates: true,
    });
    if (inserted.count === 0) return { duplicate: true, unknownMessage: false, status: undefined, changed: false };
    try {
      return await this.applyStatus({ ...update, status: update.status }, c);
    } catch (error) {
      // Not applied: forget the event, so Twilio's retry of this callback is not taken for a duplicate.
      await db.smsStatusEvent.deleteMany({ where: { messageSid: update.messageSid, status: update.status } }).catch(() => undefined);
      throw error;
    }
  }

  private async applyStatus(update: StatusUpdate & { status: MessageStatus }, c: TwilioErrorClass): Promise<StatusOutcome> {
    const { db } = this.deps;
    // Compare-and-set on the stored status: two callbacks at once both read, one writes, the other reads again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const row = await db.outboundMessage.findFirst({
        where: { id: update.outboxId, OR: [{ twilioSid: update.messageSid }, { twilioSid: null }] },
        select: { id: true, fromPhone: true, toPhone: true, purpose: true, deliveryStatus: true, status: true, attempts: true },
      });
      if (row === null) return { duplicate: false, unknownMessage: true, status: undefined, changed: false };
      const current = isMessageStatus(row.deliveryStatus) ? row.deliveryStatus : undefined;
      const step = advanceMessageStatus(current, update.status);
      if (!step.changed) return { duplicate: false, unknownMessage: false, status: step.status, changed: false };
      const { count } = await db.outboundMessage.updateMany({
        where: { id: row.id, deliveryStatus: row.deliveryStatus },
        data: {
          deliveryStatus: step.status,
          deliveryUpdatedAt: new Date(this.now()),
          ...(c.code === undefined ? {} : { errorCode: c.code }),
          ...this.mirror(step.status, row.status, update.status, c),
        },
      });
      if (count === 0) continue;
      const sms: OutgoingSms = { id: row.id, fromPhone: row.fromPhone, toPhone: row.toPhone, purpose: row.purpose };
      if (await this.resendTransient(row.id, row.attempts, step.status, c))
        return { duplicate: false, unknownMessage: false, status: step.status, changed: true };
      await this.afterStatusChange(sms, current, step.status, update, c);
      return { duplicate: false, unknownMessage: false, status: step.status, changed: true };
    }
    throw new Error(`delivery status of outbox ${update.outboxId} kept changing under us`);
  }

  /**
   * A recipient's transient code (the handset was off) within the code's bounded attempts:
   * the message goes back to the outbox for one more round later, as a new Twilio message.
   * Each attempt is billed, so the bound is the table's `maxAttempts` (2).
   *
   * @returns Whether it was queued again (then it is not final, and not alerted).
   */
  private async resendTransient(id: string, attempts: number, next: MessageStatus, c: TwilioErrorClass): Promise<boolean> {
    if ((next !== 'undelivered' && next !== 'failed') || c.scope !== 'recipient' || c.kind !== 'transient' || attempts >= (c.maxAttempts ?? 1)) return false;
    await this.deps.db.outboundMessage.update({
      where: { id },
      data: {
        status: 'pending',
        twilioSid: null,
        deliveryStatus: null,
        nextAttemptAt: new Date(this.now() + this.options.transientResendMs),
        lastError: `Twilio ${c.code}: ${c.reason}; sent again later`,
      },
    });
    this.deps.logger.info({ outboxId: id, code: c.code, attempts }, 'SMS undelivered for a transient reason: queued again once');
    return true;
  }

  /** The outbox `status` column follows a final delivery status (the admin API and retention read it). */
  private mirror(next: MessageStatus, outboxStatus: string, incoming: string, c: TwilioErrorClass): { status?: string; lastError?: string } {
    if (!isFinalMessageStatus(next) || !['sending', 'sent', 'delivered', 'undelivered'].includes(outboxStatus)) return {};
    if (next === 'undelivered' || next === 'failed')
      return { status: 'undelivered', lastError: `Twilio ${incoming}${c.code === undefined ? '' : ` (error ${c.code})`}` };
    if (next === 'canceled') return { status: 'undelivered', lastError: 'Twilio canceled' };
    return { status: 'delivered' };
  }

  private async afterStatusChange(
    sms: OutgoingSms,
    previous: MessageStatus | undefined,
    next: MessageStatus,
    update: StatusUpdate,
    c: TwilioErrorClass,
  ): Promise<void> {
    if (isFinalMessageStatus(next) && (previous === undefined || !isFinalMessageStatus(previous))) this.deps.countFinal?.(next, errorClassOf(c));
    if (next === 'delivered' || next === 'read' || next === 'partially_delivered') {
      const halt = await this.haltOf(sms.fromPhone);
      if (halt !== undefined && halt.probeOutboxId === sms.id) await this.resume(sms.fromPhone, 'probe');
      return;
    }
    if (next !== 'undelivered' && next !== 'failed') return;
    const handled = c.code === undefined ? undefined : await this.applyCode(sms, c, 'receipt');
    // An opt-out is not a failure; a sender's code is the halt's page (or below the spike: counted).
    if ((handled?.kind === 'refuse' && handled.status === 'opted_out') || c.scope === 'sender') return;
    this.deps.alert({
      type: 'SMS_UNDELIVERED',
      severity: 'LOW',
      resourceId: sms.id,
      title: 'An SMS was not delivered',
      message: `Twilio reported ${update.status}${c.code === undefined ? '' : ` (error ${c.code}: ${c.reason})`} for outbox message ${sms.id}.`,
    });
  }

  /** The rule of a Twilio error code; undefined when no rule owns it. */
  private async applyCode(sms: OutgoingSms, c: TwilioErrorClass, via: 'send' | 'receipt'): Promise<SendFailureOutcome | undefined> {
    const pair: SmsPair = { from: sms.fromPhone, to: sms.toPhone };
    const to = maskPhoneNumber(sms.toPhone);
    if (c.code === 21610) {
      // Twilio already blocks this pair (the recipient replied STOP to it): an opt-out to record, not a failure to page.
      await setOptOut(this.deps.db, pair, true, 'twilio_21610', `outbox ${sms.id} (${via})`);
      this.deps.logger.info({ outboxId: sms.id, to }, 'Twilio 21610: recipient opted out of this sender; recorded');
      return { kind: 'refuse', status: 'opted_out', reason: 'Twilio 21610: recipient unsubscribed from this sender' };
    }
    if (c.scope === 'recipient' && c.kind === 'terminal' && c.code !== undefined) {
      const created = await suppressRecipient(this.deps.db, pair, c.code, c.reason);
      if (created) this.deps.logger.warn({ outboxId: sms.id, to, code: c.code }, `recipient suppressed for this sender: ${c.reason}`);
      return { kind: 'refuse', status: 'suppressed', reason: `Twilio ${c.code}: ${c.reason}` };
    }
    if (c.scope === 'sender' && c.kind === 'systemic' && c.code !== undefined) {
      const active = await this.haltOf(sms.fromPhone);
      const resumedAt = active === undefined ? await lastResumedAt(this.deps.db, sms.fromPhone) : undefined;
      // The late receipt of a message sent before the last halt was lifted (carriers' receipts
      // come out of order): a victim of the block that has cleared, not news about the
      // sender. It goes out again now, and counts toward no new spike.
      if (resumedAt !== undefined && via === 'receipt' && (await this.sentBefore(sms.id, resumedAt))) {
        await this.sendAgainNow(sms, c.code);
        return undefined;
      }
      // While halted, every 30007 (a failed probe) keeps the halt: no spike to wait for.
      if (c.code === 30007 && active === undefined) {
        // Counted afresh from the last resume: the refusals of a cleared block are no spike.
        const windowStart = this.now() - this.options.spikeWindowMs;
        const since = new Date(Math.max(windowStart, resumedAt?.getTime() ?? windowStart));
        const recent = await recentErrors(this.deps.db, sms.fromPhone, 30007, since);
        // A send refused with 30007 at once has no row with its code yet: count it too.
        if (recent + (via === 'send' ? 1 : 0) < this.options.spikeThreshold) return undefined;
      }
      // The halt's time is read just before the statement that halts, not before the reads
      // above: on a loaded database those took seconds, and a halt stamped that much earlier
      // than it took effect made sends that could not yet see it look like a retry storm.
      const now = new Date(this.now());
      const halted = await haltSender(this.deps.db, sms.fromPhone, c.code, c.reason, now, this.options.probeAfterMs);
      if (halted) {
        this.deps.logger.error({ sender: sms.fromPhone, code: c.code }, `SENDER HALTED: ${c.reason}`);
        this.deps.alert({
          type: 'SMS_SENDER_HALTED',
          severity: 'HIGH',
          resourceId: sms.fromPhone,
          title: `Sending from ${sms.fromPhone} halted: Twilio ${c.code}`,
          message: `${c.reason} (${c.source}). Queued SMS from this number wait in the outbox; a probe is sent every ${Math.round(this.options.probeIntervalMs / 1000)} s, or resume it in the admin API (POST /api/admin/senders/${encodeURIComponent(sms.fromPhone)}/resume).`,
          context: { sender: sms.fromPhone, code: c.code },
        });
      }
      const halt = await this.haltOf(sms.fromPhone);
      if (halt !== undefined) await this.requeueBlocked(sms.fromPhone, c.code, halt.nextProbeAt, new Date(now.getTime() - this.options.spikeWindowMs));
      return {
        kind: 'wait',
        until: halt?.nextProbeAt ?? new Date(now.getTime() + this.options.probeAfterMs),
        reason: `sender halted: Twilio ${c.code} (${c.reason})`,
      };
    }
    return undefined;
  }

  /**
   * Messages the carrier refused because of the sender (its code, within the window) are
   * not the recipients' fault: they go back to the outbox, to be sent again after the halt
   * (a new Twilio message; the refused one's receipts no longer match the row).
   */
  private async requeueBlocked(from: string, code: number, until: Date, since: Date): Promise<void> {
    const { count } = await this.deps.db.outboundMessage.updateMany({
      where: { fromPhone: from, errorCode: code, deliveryStatus: { in: ['undelivered', 'failed'] }, deliveryUpdatedAt: { gte: since } },
      data: {
        status: 'pending',
        twilioSid: null,
        deliveryStatus: null,
        nextAttemptAt: until,
        lastError: `sender halted: carrier refused it with Twilio ${code}; sent again after the halt`,
      },
    });
    if (count > 0) this.deps.logger.warn({ sender: from, code, count }, 'SMS refused because of the sender queued again for after the halt');
  }

  /** Whether outbox row `id` was sent (to Twilio) before `time`. */
  private async sentBefore(id: string, time: Date): Promise<boolean> {
    const row = await this.deps.db.outboundMessage.findUnique({ where: { id }, select: { sentAt: true } });
    return row?.sentAt != null && row.sentAt.getTime() <= time.getTime();
  }

  /** A message the carrier refused because of a block that has cleared: back to the outbox, due now (a new Twilio message). */
  private async sendAgainNow(sms: OutgoingSms, code: number): Promise<void> {
    await this.deps.db.outboundMessage.updateMany({
      where: { id: sms.id, deliveryStatus: { in: ['undelivered', 'failed'] } },
      data: {
        status: 'pending',
        twilioSid: null,
        deliveryStatus: null,
        nextAttemptAt: new Date(this.now()),
        lastError: `sender halted: carrier refused it with Twilio ${code} before the halt was lifted; sent again`,
      },
    });
    this.deps.logger.warn({ outboxId: sms.id, sender: sms.fromPhone, code }, 'SMS refused during a cleared sender halt (late receipt): queued again');
  }

  /**
   * Resumes a halted sender: its waiting messages are due at once.
   *
   * @returns Whether it was halted.
   */
  async resume(from: string, by: string): Promise<boolean> {
    const now = new Date(this.now());
    const resumed = await resumeSender(this.deps.db, from, by, now);
    if (!resumed) return false;
    this.halts.remember(from, false);
    // Only the messages the halt held back: others keep their own retry schedule.
    await this.deps.db.outboundMessage.updateMany({
      where: { fromPhone: from, status: { in: ['pending', 'failed', 'unknown'] }, nextAttemptAt: { gt: now }, lastError: { startsWith: 'sender halted' } },
      data: { nextAttemptAt: now },
    });
    this.deps.logger.info({ sender: from, by }, 'sender resumed: its queued SMS go out now');
    return true;
  }
}
