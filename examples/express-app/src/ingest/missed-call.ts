import { isCircuitOpenError, isRetriesExhaustedError, maskPhoneNumber, scrubText } from '@hardening/core';
import type { AppContext } from '../app-context.js';
import { isIdempotencyInProgressError, isIdempotencyStoreError } from '@hardening/idempotency';
import { clientOfNumber, handleMissedCall, missedCallSendKey, missedCallText } from '../domain/conversation.js';
import { texts } from '../domain/messages.js';
import { completeTestCall } from '../domain/onboarding.js';
import { enqueueSmsOnce, type OutboundPurpose } from '../domain/outbox.js';
import { toE164 } from '../domain/phone.js';
import { classifySendFailure } from '../providers/send-errors.js';
import type { BusinessDirectory } from './business-directory.js';
import type { HaltedSenders } from '../domain/deliverability/halted-senders.js';
import { providerSid } from './input-text.js';

/** Call statuses that mean nobody picked up. */
export const missedStatuses: ReadonlySet<string> = new Set(['no-answer', 'busy', 'failed']);
/** Statuses after which a call is over (a test call counts whatever its end). */
const finalStatuses = new Set(['completed', 'no-answer', 'busy', 'failed', 'canceled']);

/** One voice status callback, as Twilio posts it (already verified). */
export interface CallStatusEvent {
  readonly callSid: string;
  readonly status: string;
  readonly from: string;
  readonly to: string;
}

/** What a voice status callback led to. */
export type CallOutcome = 'missed_call_texted' | 'test_call_completed' | 'failsafe_sent' | 'already_texted' | 'ignored';

/** What {@link handleCallStatus} uses of the app context. */
export type CallStatusDeps = Pick<AppContext, 'db' | 'config' | 'logger' | 'metrics'> & {
  /** Told about every number read, so a missed call during an outage can still use the business's text. */
  readonly directory?: BusinessDirectory;
};

/** Reads the call out of Twilio's form parameters; undefined when they are malformed. */
export function readCallStatus(params: Record<string, unknown>): CallStatusEvent | undefined {
  const sid = providerSid.safeParse(params.CallSid);
  const callSid = sid.success ? sid.data : undefined;
  const status = typeof params.CallStatus === 'string' && params.CallStatus !== '' ? params.CallStatus : undefined;
  const from = toE164(params.From);
  const to = toE164(params.To);
  if (callSid === undefined || status === undefined || from === undefined || to === undefined) return undefined;
  return { callSid, status, from, to };
}

/**
 * Applies one voice status callback:
 * - a missed call (no-answer, busy, failed) to a client's number texts the caller back in
 *   the business's name, through the outbox;
 * - the owner's call to their own new number completes onboarding (S9_TEST_CALL);
 * - a missed call to a number of no client (the system number, say) gets the generic
 *   fail-safe SMS through the outbox, a metric and an action-required warning; nothing
 *   touches onboarding.
 *
 * Either text goes out once per CallSid (the outbox's send key), whatever the idempotency
 * store remembers.
 *
 * @throws What the database throws (the route then sends the fail-safe itself).
 */
export async function handleCallStatus(deps: CallStatusDeps, call: CallStatusEvent): Promise<CallOutcome> {
  const { prisma } = deps.db;
  const client = await clientOfNumber(prisma, call.to);
  deps.directory?.remember(call.to, client);
  if (client === null) {
    if (!missedStatuses.has(call.status)) return 'ignored';
    const id = await enqueueSmsOnce(prisma, {
      to: call.from,
      from: call.to,
      body: texts.failsafe,
      purpose: 'failsafe',
      sendKey: missedCallSendKey(call.callSid),
    });
    if (id === undefined) return 'already_texted';
    deps.metrics.failsafeIntakes.inc();
    deps.logger.warn(
      { callSid: call.callSid, from: maskPhoneNumber(call.from), to: maskPhoneNumber(call.to), action: 'required' },
      'ACTION REQUIRED: call to a number of no client; fail-safe SMS sent to the caller',
    );
    return 'failsafe_sent';
  }
  if (call.from === client.phone && finalStatuses.has(call.status)) {
    const completed = await prisma.$transaction((tx) => completeTestCall(tx, client, deps.config.systemNumber));
    if (completed) return 'test_call_completed';
  }
  if (!missedStatuses.has(call.status) || call.from === client.phone) return 'ignored';
  const id = await prisma.$transaction((tx) => handleMissedCall(tx, { client, clientNumber: call.to, callerPhone: call.from, callSid: call.callSid }));
  return id === undefined ? 'already_texted' : 'missed_call_texted';
}

/** What {@link handleCallStatusOnce} uses of the app context. */
export type CallStatusOnceDeps = CallStatusDeps & Pick<AppContext, 'once'>;

/** What a call's text-back key holds: handled through the database, or the fail-safe's fate. */
type TextBackRecord = { readonly handled: true } | SpooledCall;

/**
 * {@link handleCallStatus} for a missed call, under the same once-per-CallSid key as the
 * fail-safe SMS sent while the database was down ({@link FailsafeSender}), shared by every
 * instance through the idempotency store:
 * - the fail-safe already texted this caller (on any instance, the database down there):
 *   the text is recorded in the outbox under the call's send key now, and nobody is texted
 *   again, even though the spool that holds the call is not drained yet;
 * - the call is being texted right now elsewhere: nothing more here (or, with
 *   `inProgress: 'throw'`, the {@link IdempotencyInProgressError} for the caller to come
 *   back later: the holder may have died holding the key, which its lease then frees);
 * - otherwise the call is handled, and a fail-safe arriving later finds the key taken.
 * Without the store (Redis down), the outbox send key alone guards the text.
 *
 * @throws What the database throws (the route then sends the fail-safe itself).
 * @example
 * ```ts
 * const outcome = await handleCallStatusOnce(ctx, { callSid, status: 'no-answer', from, to });
 * ```
 */
export async function handleCallStatusOnce(
  deps: CallStatusOnceDeps,
  call: CallStatusEvent,
  options: { readonly inProgress?: 'texted' | 'throw' } = {},
): Promise<CallOutcome> {
  if (!missedStatuses.has(call.status)) return handleCallStatus(deps, call);
  let outcome: CallOutcome | undefined;
  let prior: TextBackRecord;
  try {
    const run = await deps.once.execute<TextBackRecord>(failsafeKey(call.callSid), async () => {
      outcome = await handleCallStatus(deps, call);
      return { handled: true };
    });
    if (run.status === 'executed') return outcome!;
    // A record written before the fate was kept (the string 'sent'): the generic text went out.
    prior = typeof run.value === 'object' && run.value !== null ? run.value : { fate: 'sent' };
  } catch (error) {
    if (outcome !== undefined) return outcome; // handled; only its record failed
    if (isIdempotencyInProgressError(error)) {
      if (options.inProgress === 'throw') throw error;
      return 'already_texted';
    }
    // The database's own failure: the route's fail-safe takes over.
    if (!isIdempotencyStoreError(error)) throw error;
    deps.logger.warn({ callSid: call.callSid, err: scrubText(String(error)) }, 'idempotency store unavailable; relying on the outbox send key');
    return handleCallStatus(deps, call);
  }
  if ('handled' in prior || prior.fate === 'not_sent') return 'handled' in prior ? 'already_texted' : handleCallStatus(deps, call);
  await recordSpooledCall(deps, call, prior);
  return 'already_texted';
}

/** The once-per-call key of a missed call's text (the business's, or the fail-safe). */
function failsafeKey(callSid: string): string {
  return `failsafe:${callSid}`;
}

/** How the fail-safe SMS sent while the database was down fared. */
export type FailsafeFate = 'sent' | 'unknown' | 'not_sent';

/** A missed call spooled while the database was down, with its fail-safe SMS's fate. */
export interface SpooledCall {
  readonly fate: FailsafeFate;
  /** Twilio's SID of the fail-safe SMS when it was sent. */
  readonly sid?: string;
  /**
   * The text sent: the business's (from the {@link BusinessDirectory}) or the generic
   * fail-safe. Absent in calls spooled before it was recorded: the generic text.
   */
  readonly body?: string;
  /** `missed_call` for the business's text, `failsafe` for the generic one. @default 'failsafe' */
  readonly purpose?: Extract<OutboundPurpose, 'missed_call' | 'failsafe'>;
}

/**
 * Records a missed call spooled while the database was down, once the database is back
 * (the sweep's spool drain):
 * - its fail-safe SMS went out: the outbox gets it as `sent` under the call's send key, so
 *   a later redelivery texts nobody again;
 * - its outcome is unknown (a timeout): the outbox gets it as `unknown`, to be looked up in
 *   Twilio's message log before any retry;
 * - it was not sent (Twilio down too): the call is handled as if it arrived now, so the
 *   caller gets the business's text through the outbox.
 */
export async function recordSpooledCall(deps: CallStatusOnceDeps, call: CallStatusEvent, spooled: SpooledCall): Promise<void> {
  if (spooled.fate === 'not_sent') {
    // Through the call's once-key: a fail-safe sent for it meanwhile (on any instance) is
    // recorded rather than followed by the business's text. A key held elsewhere is no
    // proof of a text: the holder may have been killed mid-call (its lease frees the key),
    // so the spool keeps the call for a later drain rather than dropping it (issue 11).
    await handleCallStatusOnce(deps, call, { inProgress: 'throw' });
    return;
  }
  await deps.db.prisma.outboundMessage.createMany({
    data: [
      {
        toPhone: call.from,
        fromPhone: call.to,
        body: spooled.body ?? texts.failsafe,
        purpose: spooled.purpose ?? 'failsafe',
        sendKey: missedCallSendKey(call.callSid),
        attempts: 1,
        ...(spooled.fate === 'sent'
          ? { status: 'sent', twilioSid: spooled.sid ?? null, sentAt: new Date() }
          : { status: 'unknown', lastError: 'sent while the database was down; outcome unknown' }),
      },
    ],
    skipDuplicates: true,
  });
}

/** What {@link FailsafeSender} uses of the app context. */
export type FailsafeDeps = Pick<AppContext, 'logger' | 'metrics' | 'alert' | 'sms' | 'safeCall' | 'once' | 'spool'> & {
  /** The businesses behind our numbers as last read: their text instead of the generic one. */
  readonly directory?: BusinessDirectory;
  /**
   * The halted senders as last read (domain/deliverability): a number known halted sends
   * nothing, the call is spooled and texted through the outbox, after the halt.
   */
  readonly halts?: Pick<HaltedSenders, 'isHalted'>;
};

/** How {@link FailsafeSender.send} went: which text reached the caller, or none now. */
export type FailsafeResult = 'business_text' | 'generic_text' | 'not_sent' | 'duplicate';

/**
 * The missed-call fail-safe while the database cannot be reached: the caller is texted at
 * once, in the business's name when the {@link BusinessDirectory} knows the number called
 * (else the generic text), and the call is spooled with how that send fared, so that it is
 * recorded (or, when Twilio failed too, handled properly through the outbox) once the
 * database is back. Nothing is lost to a concurrent Twilio failure.
 *
 * Once per CallSid: the idempotency store's guard when it answers (the key the database
 * path takes too, see {@link handleCallStatusOnce}: a redelivery handled after the database
 * is back records this text instead of sending the business's), and this process's own
 * memory of recent calls when it does not (Redis down too). The one case left is a
 * redelivery landing on another instance while both PostgreSQL and Redis are down; Twilio
 * redelivers only when our answer failed, and we answer 200.
 */
export class FailsafeSender {
  private readonly recent = new Map<string, number>();

  constructor(
    private readonly deps: FailsafeDeps,
    private readonly options: { readonly rememberMs?: number; readonly maxRemembered?: number; readonly now?: () => number } = {},
  ) {}

  /** Texts the caller of `call` once (the business's text, or the generic one), and spools the call. */
  async send(call: CallStatusEvent, params: Record<string, string>): Promise<FailsafeResult> {
    if (!this.remember(call.callSid)) return 'duplicate';
    let result: FailsafeResult = 'duplicate';
    const run = async (): Promise<SpooledCall> => {
      const spooled = await this.sendAndSpool(call, params);
      result = spooled.fate !== 'sent' ? 'not_sent' : spooled.purpose === 'missed_call' ? 'business_text' : 'generic_text';
      return spooled;
    };
    let ran = false;
    try {
      await this.deps.once.run<SpooledCall>(failsafeKey(call.callSid), () => {
        ran = true;
        return run();
      });
    } catch (error) {
      if (ran) {
        this.deps.logger.warn({ callSid: call.callSid, err: scrubText(String(error)) }, 'idempotency store could not record the fail-safe SMS');
      } else if (isIdempotencyInProgressError(error)) {
        // Another delivery of this call holds its once-key right now (a Twilio retry that
        // reached the database while this one failed): that holder is texting the caller, so
        // a text here would be the second (the doubled text a loaded test run caught). The
        // holder may still fail or die, so the call is spooled as not sent: its drain goes
        // through the same once-key and texts the caller only if nobody did.
        this.deps.logger.info({ callSid: call.callSid }, "fail-safe SMS not sent: another delivery holds this call's text; the call is spooled");
        await this.spoolUnsent(call, params);
      } else {
        this.deps.logger.warn(
          { callSid: call.callSid, err: scrubText(String(error)) },
          'idempotency store unavailable; fail-safe SMS guarded by this instance only',
        );
        await run();
      }
    }
    return result;
  }

  /** False when this process handled `callSid` recently. */
  private remember(callSid: string): boolean {
    const now = (this.options.now ?? Date.now)();
    const rememberMs = this.options.rememberMs ?? 24 * 3_600_000;
    if ((this.recent.get(callSid) ?? -Infinity) > now - rememberMs) return false;
    this.recent.set(callSid, now);
    // Oldest first (insertion order): bounded memory whatever the call volume.
    for (const [key] of this.recent) {
      if (this.recent.size <= (this.options.maxRemembered ?? 10_000)) break;
      this.recent.delete(key);
    }
    return true;
  }

  /** The text for a caller of `call.to`: the business's when the directory knows it, undefined for its owner. */
  private textFor(call: CallStatusEvent): { body: string; purpose: 'missed_call' | 'failsafe' } | undefined {
    const business = this.deps.directory?.lookup(call.to);
    if (business === undefined || business === null) return { body: texts.failsafe, purpose: 'failsafe' };
    // The owner's own (test) call is no customer's: the spooled call is handled when the database is back.
    if (business.ownerPhone === call.from) return undefined;
    return { body: missedCallText(business), purpose: 'missed_call' };
  }

  /** Spools the call with no text sent, for the drain to text it (once) when it can. */
  private async spoolUnsent(call: CallStatusEvent, params: Record<string, string>): Promise<void> {
    try {
      await this.deps.spool.put({ provider: 'twilio_voice', receivedAt: new Date().toISOString(), payload: params, call: { fate: 'not_sent' } });
    } catch (error) {
      this.deps.logger.warn(
        { callSid: call.callSid, err: scrubText(String(error)) },
        "call not spooled; the delivery holding its text is the caller's only text-back",
      );
    }
  }

  private async sendAndSpool(call: CallStatusEvent, params: Record<string, string>): Promise<SpooledCall> {
    const { logger, sms } = this.deps;
    const text = this.textFor(call);
    let spooled: SpooledCall = { fate: 'not_sent' };
    if (text === undefined) {
      logger.info({ callSid: call.callSid }, "the owner's own call to their number; spooled for when the database is back");
    } else if (this.deps.halts?.isHalted(call.to) === true) {
      // The carrier refuses this number's texts (its campaign breaker is open): a text now
      // would be one more refused request in the block (the chaos run's "retry storm") and,
      // sent without a status callback, a refusal nobody hears of, so a caller never texted.
      // Spooled as not sent, the call is texted through the outbox, which holds it until
      // the halt is lifted.
      logger.warn(
        { callSid: call.callSid, to: maskPhoneNumber(call.from) },
        'fail-safe SMS not sent: the number called is halted (campaign breaker); the spooled call is texted through the outbox after the halt',
      );
    } else if (sms === undefined) {
      logger.warn({ callSid: call.callSid, to: maskPhoneNumber(call.from) }, 'SMS not sent: Twilio not configured');
    } else {
      try {
        const result = await this.deps.safeCall('twilio_sms', () => sms.send({ to: call.from, from: call.to, body: text.body }), {
          correlationId: call.callSid,
          // Only sends Twilio certainly did not take are retried: a second text is worse.
          retryable: (error) => sendFailure(error) === 'not_accepted',
        });
        spooled = { fate: 'sent', sid: result.sid, ...text };
      } catch (error) {
        spooled = sendFailure(error) === 'unknown' ? { fate: 'unknown', ...text } : { fate: 'not_sent' };
        logger.warn(
          { callSid: call.callSid, to: maskPhoneNumber(call.from), fate: spooled.fate, err: scrubText(String(error)) },
          'fail-safe SMS not sent now; the spooled call is texted through the outbox when the database is back',
        );
      }
    }
    try {
      await this.deps.spool.put({ provider: 'twilio_voice', receivedAt: new Date().toISOString(), payload: params, call: spooled });
    } catch (error) {
      if (spooled.fate === 'sent') {
        logger.warn({ callSid: call.callSid, err: scrubText(String(error)) }, 'fail-safe SMS sent, but the call could not be spooled for the record');
        return spooled;
      }
      logger.error(
        { callSid: call.callSid, to: maskPhoneNumber(call.from), err: scrubText(String(error)) },
        'MESSAGE LOST: fail-safe SMS not sent and the call could not be spooled',
      );
      this.deps.alert({
        type: 'MESSAGE_LOST',
        severity: 'HIGH',
        resourceId: call.callSid,
        title: 'Fail-safe SMS lost',
        message: `A caller to ${maskPhoneNumber(call.to)} got no reply: ${scrubText(String(error))}`,
      });
    }
    return spooled;
  }
}

/** A send refused by the open breaker reached nobody. */
function sendFailure(error: unknown): ReturnType<typeof classifySendFailure> {
  if (isCircuitOpenError(error)) return 'not_accepted';
  return classifySendFailure(isRetriesExhaustedError(error) ? error.cause : error);
}
