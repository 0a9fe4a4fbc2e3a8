import { isCircuitOpenError, isRetriesExhaustedError, maskPhoneNumber, scrubText } from '@hardening/core';
import type { Logger, SafeCall } from '@hardening/core';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Db } from '../db/database.js';
import type { OutboundMessage } from '../db/generated/client.js';
import type { AlertInput } from '../alerts/alert-input.js';
import { clientOfNumber, missedCallText } from '../domain/conversation.js';
import type { Deliverability } from '../domain/deliverability/deliverability.js';
import { activeTraceparent, inMessageSpan } from '../message-trace.js';
import { classifySendFailure } from '../providers/send-errors.js';
import type { SmsSender } from '../providers/sms-sender.js';

/** What one round of the worker did. */
// A type, not an interface: Object.values / Object.entries over a round then see numbers.
export type OutboxRound = {
  sent: number;
  reconciled: number;
  retrying: number;
  unknown: number;
  deadLettered: number;
  notSent: number;
  /** Sends the open `twilio_sms` breaker refused: not counted as rounds, tried again later. */
  refused: number;
  /** Never sent: the recipient opted out of, or is suppressed for, this sender (see domain/deliverability). */
  withheld: number;
  /** Held back, not a round: the sender is halted (or the opt-out state unreadable); due again later. */
  held: number;
};

/** Options of {@link OutboxWorker}. */
export interface OutboxWorkerOptions {
  readonly db: Db;
  /** Undefined when Twilio is not configured: messages are logged as not sent. */
  readonly sender: SmsSender | undefined;
  readonly safeCall: SafeCall;
  readonly logger: Logger;
  readonly alert: (alert: AlertInput) => void;
  /**
   * The deliverability rules (opt-out, suppression, sender halts), checked before every
   * send and told of every refusal. Without it every row is sent.
   */
  readonly deliverability?: Deliverability;
  /** Where Twilio posts delivery updates for a message (by outbox id). */
  readonly statusCallbackUrl?: (outboxId: string) => string;
  /** Rows per round. @default 25 */
  readonly batchSize?: number;
  /** A row stuck in `sending` this long (a crashed worker) is treated as unknown. @default 120_000 */
  readonly staleSendingMs?: number;
  /**
   * Rounds (sends that reached, or may have reached, Twilio) before a message is
   * dead-lettered, by purpose. A send the `twilio_sms` breaker refused is not a round.
   * @default owner_urgent 10, others 5
   */
  readonly maxRounds?: (purpose: string) => number;
  /**
   * Wait before round n+1 (n from 1), by purpose.
   * @default owner_urgent 10 s doubling, at most 2 min (about 12 min over its 10 rounds); others 30 s doubling, at most 15 min
   */
  readonly retryDelayMs?: (round: number, purpose: string) => number;
  /**
   * Longest wait before trying again a message whose send the open breaker refused
   * (sooner when the breaker's next probe is sooner).
   * @default 5_000
   */
  readonly refusedDelayMs?: number;
  /**
   * Time source for "due" and the next attempt (epoch ms).
   * @default Date.now
   */
  readonly now?: () => number;
}

type Claimed = OutboundMessage & { previous: string };

/**
 * An urgent text to the owner (a customer was told "we alerted them right away") gets the
 * most patience: enough rounds to outlast a provider outage of several minutes.
 */
function defaultMaxRounds(purpose: string): number {
  return purpose === 'owner_urgent' ? 10 : 5;
}

/** Urgent texts come back sooner (10 s doubling, at most 2 min) than others (30 s doubling, at most 15 min). */
function defaultRetryDelayMs(round: number, purpose: string): number {
  return purpose === 'owner_urgent' ? Math.min(120_000, 10_000 * 2 ** (round - 1)) : Math.min(15 * 60_000, 30_000 * 2 ** (round - 1));
}

/**
 * Sends the outbox exactly once per message. Rows are claimed with `FOR UPDATE SKIP
 * LOCKED`, so several workers (and app instances) never send the same row. Each send goes
 * through `safeCall('twilio_sms')`, retried there only when Twilio certainly did not take
 * the message. A send whose outcome is unknown (a timeout after the request left) is
 * marked `unknown` and looked up in Twilio's message log before any retry. A message that
 * cannot be sent after its rounds is dead-lettered with a "MESSAGE LOST" log line and an
 * alert.
 */
export class OutboxWorker {
  private readonly batchSize: number;
  private readonly staleSendingMs: number;
  private readonly maxRounds: (purpose: string) => number;
  private readonly retryDelayMs: (round: number, purpose: string) => number;
  private readonly refusedDelayMs: number;
  private readonly now: () => number;

  constructor(private readonly options: OutboxWorkerOptions) {
    this.batchSize = options.batchSize ?? 25;
    this.staleSendingMs = options.staleSendingMs ?? 120_000;
    this.maxRounds = options.maxRounds ?? defaultMaxRounds;
    this.retryDelayMs = options.retryDelayMs ?? defaultRetryDelayMs;
    this.refusedDelayMs = options.refusedDelayMs ?? 5000;
    this.now = options.now ?? Date.now;
  }

  /** Messages waiting to go out (pending, failed, unknown), for health and metrics. */
  backlog(): Promise<number> {
    return this.options.db.outboundMessage.count({ where: { status: { in: ['pending', 'failed', 'unknown', 'sending'] } } });
  }

  /** One round: claim due rows and send (or reconcile) each. */
  async runOnce(): Promise<OutboxRound> {
    const round: OutboxRound = { sent: 0, reconciled: 0, retrying: 0, unknown: 0, deadLettered: 0, notSent: 0, refused: 0, withheld: 0, held: 0 };
    const { db } = this.options;
    const now = new Date(this.now());
    // Every few seconds: which senders are halted, for the missed-call fail-safe that cannot
    // read the database when it must send (see HaltedSenders). A failed read keeps what was
    // known; the database's failure is this round's to report (its claim below fails too).
    await this.options.deliverability
      ?.refreshHalts()
      .catch((error: unknown) => this.options.logger.debug({ err: scrubText(String(error)) }, 'could not read the halted senders'));
    await db.$executeRaw`
      UPDATE "outbound_messages" SET "status" = 'unknown'
       WHERE "status" = 'sending' AND "sending_at" < ${new Date(now.getTime() - this.staleSendingMs)}`;
    const claimed = await db.$queryRaw<Claimed[]>`
      WITH due AS (
        SELECT "id", "status" AS previous FROM "outbound_messages"
         WHERE "status" IN ('pending', 'failed', 'unknown') AND "next_attempt_at" <= ${now}
         ORDER BY "next_attempt_at", "created_at"
         LIMIT ${this.batchSize}
         FOR UPDATE SKIP LOCKED)
      UPDATE "outbound_messages" AS o
         SET "status" = 'sending', "sending_at" = ${now}, "attempts" = o."attempts" + 1
        FROM due WHERE o."id" = due."id"
      RETURNING o."id", o."to_phone" AS "toPhone", o."from_phone" AS "fromPhone", o."body", o."purpose",
                o."attempts", o."created_at" AS "createdAt", o."traceparent", due.previous`;
    for (const row of claimed) await this.traced(row, round);
    return round;
  }

  /**
   * One row in a span linked to the processing that wrote it (another request or job,
   * perhaps minutes ago): the breaker's and retries' spans nest inside it, and a sent row
   * keeps this span's context for the status callbacks that follow.
   */
  private traced(row: Claimed, round: OutboxRound): Promise<void> {
    const before = { ...round };
    return inMessageSpan(
      'sms.outbox.send',
      {
        kind: SpanKind.PRODUCER,
        linkTo: row.traceparent,
        attributes: { 'app.outbox.id': row.id, 'app.sms.purpose': row.purpose, 'app.outbox.round': row.attempts },
      },
      async (span) => {
        await this.handle(row, round);
        const outcome = (Object.keys(round) as Array<keyof OutboxRound>).find((key) => round[key] !== before[key]) ?? 'none';
        span.setAttribute('app.outbox.outcome', outcome);
        if (outcome === 'deadLettered') span.setStatus({ code: SpanStatusCode.ERROR, message: 'dead-lettered' });
      },
    );
  }

  private async handle(claimed: Claimed, round: OutboxRound): Promise<void> {
    let row = claimed;
    const { sender, logger } = this.options;
    if (sender === undefined) {
      logger.warn({ outboxId: row.id, to: maskPhoneNumber(row.toPhone), purpose: row.purpose }, 'SMS not sent: Twilio not configured');
      await this.update(row.id, { status: 'not_sent', lastError: 'Twilio not configured' });
      round.notSent++;
      return;
    }
    if (row.previous === 'unknown') {
      const found = await this.reconcile(row);
      if (typeof found === 'object') {
        // The lookup's breaker refused it: Twilio was not asked, so this is no round (three
        // refusals in the combined chaos run pushed rows 2 min out, past the final drain).
        await this.refused(row, found.retryAt, round, 'twilio_lookup breaker open: not looked up');
        return;
      }
      if (found === 'lookup_failed') {
        await this.retryLater(row, 'unknown', 'lookup failed; outcome still unknown', round);
        return;
      }
      if (found !== undefined) {
        await this.update(row.id, { status: 'sent', twilioSid: found, sentAt: new Date(this.now()), lastError: null });
        logger.info({ outboxId: row.id, sid: found }, 'SMS found in Twilio after an unknown outcome: not sent again');
        round.reconciled++;
        return;
      }
    }
    row = await this.inBusinessName(row);
    const { deliverability } = this.options;
    const decision = deliverability === undefined ? { kind: 'send' as const, probe: false } : await deliverability.beforeSend(row);
    if (decision.kind === 'refuse') {
      await this.withhold(row, decision.status, decision.reason, round);
      return;
    }
    if (decision.kind === 'wait') {
      await this.hold(row, decision.until, decision.reason, round);
      return;
    }
    // Sends that left for Twilio: a breaker refusal before any of them is no round.
    let reached = 0;
    try {
      const result = await this.options.safeCall(
        'twilio_sms',
        () => {
          reached++;
          return sender.send({
            to: row.toPhone,
            from: row.fromPhone,
            body: row.body,
            ...(this.options.statusCallbackUrl === undefined ? {} : { statusCallback: this.options.statusCallbackUrl(row.id) }),
          });
        },
        { retryable: (error) => classifySendFailure(error) === 'not_accepted', correlationId: row.id },
      );
      // The status callbacks link to this send (which links back to the processing).
      await this.update(row.id, { status: 'sent', twilioSid: result.sid, sentAt: new Date(this.now()), lastError: null, traceparent: activeTraceparent() });
      trace.getActiveSpan()?.setAttribute('messaging.message.id', result.sid);
      round.sent++;
      await deliverability?.afterSendSuccess(row, decision.probe);
    } catch (error) {
      if (isCircuitOpenError(error) && reached === 0) {
        await this.refused(row, error.retryAt, round);
        return;
      }
      const cause = isRetriesExhaustedError(error) ? error.cause : error;
      const ruled = deliverability === undefined || reached === 0 ? undefined : await deliverability.afterSendError(row, cause);
      if (ruled?.kind === 'refuse') {
        await this.withhold(row, ruled.status, ruled.reason, round);
        return;
      }
      if (ruled?.kind === 'wait') {
        await this.hold(row, ruled.until, ruled.reason, round);
        return;
      }
      const message = scrubText(error instanceof Error ? error.message : String(error)).slice(0, 500);
      // The breaker opened between retries: every earlier attempt was one Twilio did not take.
      const failure = isCircuitOpenError(error) ? 'not_accepted' : classifySendFailure(cause);
      if (failure === 'rejected') {
        await this.deadLetter(row, message, round);
      } else if (failure === 'unknown') {
        await this.retryLater(row, 'unknown', message, round);
      } else {
        await this.retryLater(row, 'failed', message, round);
      }
    }
  }

  /**
   * Looks the row up in Twilio's message log: its sid when found, undefined when not sent,
   * the string `lookup_failed` when the lookup failed (no sid looks like it), `{ retryAt }`
   * when its breaker refused it.
   */
  private async reconcile(row: Claimed): Promise<string | undefined | { readonly retryAt: number | undefined }> {
    try {
      // The same text to the same person (two missed calls) must not match one message twice.
      const matched = await this.options.db.outboundMessage.findMany({
        where: { toPhone: row.toPhone, fromPhone: row.fromPhone, body: row.body, twilioSid: { not: null }, id: { not: row.id } },
        select: { twilioSid: true },
      });
      const exclude = new Set(matched.map((m) => m.twilioSid!));
      return await this.options.safeCall('twilio_lookup', () =>
        this.options.sender!.findSent({ to: row.toPhone, from: row.fromPhone, body: row.body, since: row.createdAt, exclude }),
      );
    } catch (error) {
      this.options.logger.warn({ outboxId: row.id, err: scrubText(String(error)) }, 'could not look up an SMS of unknown outcome');
      if (isCircuitOpenError(error)) return { retryAt: error.retryAt };
      return 'lookup_failed';
    }
  }

  private async retryLater(row: Claimed, status: 'failed' | 'unknown', lastError: string, round: OutboxRound): Promise<void> {
    if (status === 'failed' && row.attempts >= this.maxRounds(row.purpose)) {
      await this.deadLetter(row, lastError, round);
      return;
    }
    // An outcome we still cannot look up after several more rounds than sending gets (Twilio's
    // log unreachable that long): stop, and tell a person to check Twilio's console, rather
    // than retry forever or risk a second SMS.
    if (status === 'unknown' && row.attempts >= this.maxRounds(row.purpose) + 5) {
      await this.deadLetter(row, `outcome unknown after ${row.attempts} rounds (check Twilio's message log): ${lastError}`, round);
      return;
    }
    const nextAttemptAt = new Date(this.now() + this.retryDelayMs(row.attempts, row.purpose));
    await this.update(row.id, { status, lastError, nextAttemptAt });
    if (status === 'unknown') round.unknown++;
    else round.retrying++;
  }

  /**
   * The open breaker refused the send: nothing reached Twilio, so the round is given back
   * (a breaker open when the row comes up must not dead-letter it without a try) and the
   * row waits for the breaker's next probe.
   */
  private async refused(row: Claimed, retryAt: number | undefined, round: OutboxRound, reason = 'twilio_sms breaker open: not attempted'): Promise<void> {
    const now = this.now();
    // At the breaker's next probe, and no later than `refusedDelayMs` (a breaker shared
    // through Redis may close sooner, and a refusal costs nothing).
    const wait = retryAt === undefined ? this.refusedDelayMs : Math.min(this.refusedDelayMs, Math.max(0, retryAt - now));
    const nextAttemptAt = new Date(now + wait);
    const status = row.previous === 'unknown' ? 'unknown' : row.previous === 'failed' ? 'failed' : 'pending';
    await this.update(row.id, { status, attempts: row.attempts - 1, lastError: reason, nextAttemptAt });
    round.refused++;
  }

  /**
   * Never to be sent (the recipient opted out, or a terminal code suppressed the pair): the
   * row is closed with `status`, without an alert (a person cannot make it deliverable; the
   * admin API lists suppressions and opt-outs), and no round is counted.
   */
  private async withhold(row: Claimed, status: 'suppressed' | 'opted_out', reason: string, round: OutboxRound): Promise<void> {
    await this.update(row.id, { status, lastError: reason, attempts: Math.max(0, row.attempts - 1) });
    this.options.logger.info({ outboxId: row.id, to: maskPhoneNumber(row.toPhone), purpose: row.purpose }, `SMS withheld: ${reason}`);
    round.withheld++;
  }

  /**
   * Not now (the sender is halted): the row waits with its round given back, so a long halt
   * cannot dead-letter a message that never reached a carrier.
   */
  private async hold(row: Claimed, until: Date, reason: string, round: OutboxRound): Promise<void> {
    const status = row.previous === 'unknown' ? 'unknown' : row.previous === 'failed' ? 'failed' : 'pending';
    await this.update(row.id, { status, attempts: Math.max(0, row.attempts - 1), lastError: reason, nextAttemptAt: until });
    round.held++;
  }

  private async deadLetter(row: Claimed, lastError: string, round: OutboxRound): Promise<void> {
    await this.update(row.id, { status: 'dead_letter', lastError });
    round.deadLettered++;
    const to = maskPhoneNumber(row.toPhone);
    this.options.logger.error({ outboxId: row.id, to, purpose: row.purpose, attempts: row.attempts, err: lastError }, 'MESSAGE LOST: SMS dead-lettered');
    this.options.alert({
      type: 'MESSAGE_LOST',
      severity: row.purpose === 'owner_urgent' ? 'HIGH' : 'MEDIUM',
      resourceId: row.id,
      title: `SMS to ${to} could not be sent`,
      message: `A ${row.purpose} SMS was dead-lettered after ${row.attempts} round(s): ${lastError}`,
      context: { outboxId: row.id, purpose: row.purpose },
    });
  }

  /**
   * A generic fail-safe text about to go out (never sent, or found unsent after an unknown
   * outcome) from a number that is a live business's now: sent in the business's name
   * instead. The instance that took the call chose the generic text because its directory
   * did not know the business: it had started during a database outage and never read it
   * (the chaos run's combined scenario: a caller of a live business got the generic text
   * once Twilio was back). A number of no client keeps the generic text.
   */
  private async inBusinessName(row: Claimed): Promise<Claimed> {
    if (row.purpose !== 'failsafe') return row;
    const client = await clientOfNumber(this.options.db, row.fromPhone);
    if (client === null) return row;
    const body = missedCallText(client);
    await this.update(row.id, { body, purpose: 'missed_call' });
    this.options.logger.info({ outboxId: row.id, clientId: client.id }, "fail-safe text from a business's number: sent in the business's name instead");
    return { ...row, body, purpose: 'missed_call' };
  }

  private async update(id: string, data: Partial<OutboundMessage>): Promise<void> {
    await this.options.db.outboundMessage.update({ where: { id }, data });
  }
}
