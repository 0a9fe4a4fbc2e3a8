import { randomUUID } from 'node:crypto';
import { classifySmsKeyword, isHardeningError, scrubText } from '@hardening/core';
import { setLocalStatementTimeout } from '@hardening/core/prisma';
import type { Database, Db } from '../db/database.js';
import {
  alreadyRecordedCode,
  guessedRoute,
  receiveNewOwner,
  receiveNewOwnerOnGuess,
  receiveNoChange,
  receiveNoChangeOnGuess,
  receiveTransition,
  receiveTransitionOnGuess,
  routeLookup,
  type GuessedWriteRow,
  type InboxWrite,
} from '../db/inbound-statements.js';
import type { Statement } from '../db/named-statement.js';
import { activeTraceparent, inMessageSpan } from '../message-trace.js';
import { applyInboundDeliverability } from './deliverability/inbound-keywords.js';
import { InvariantViolation } from './errors.js';
import {
  answerPath,
  messageTransactionTimeoutMs,
  processInbound,
  recordInbound,
  replyPurpose,
  storedAnswer,
  type InboundOutcome,
  type StoredAnswer,
} from './inbound.js';
import type { KnownOwner } from './known-owners.js';
import type { OutboundPurpose } from './outbox.js';
import { canTransition, ownerStep, welcomeStep, type OwnerStep } from './onboarding.js';
import { ReplyChannel } from './reply-channel.js';
import type { InboundSms, ProcessingDeps, ProcessingResult, RouteRow, SmsPlan } from './routing.js';
import { lookupRoute, ownerPlan, planSms, processSms, routeFromRow } from './routing.js';

/** What {@link receiveInbound} decided, with the inbox row it wrote or found. */
export type ReceivedInbound = InboundOutcome & { readonly inboxId: string };

/**
 * The inbox row an inbound SMS gets, decided before anything is written: every write of this
 * delivery (the one transaction, the `received` row of a slow one, the `failed` row of a
 * failed one) uses the same id, so they are one row and its spans name it from the start.
 */
export interface InboxRowRef {
  readonly id: string;
  /** The webhook span's context, kept with the row (processing links back to it). */
  readonly traceparent: string | null;
}

/**
 * A fresh {@link InboxRowRef} for a delivery.
 *
 * @example
 * ```ts
 * const ref = newInboxRow(activeTraceparent());
 * ```
 */
export function newInboxRow(traceparent: string | null): InboxRowRef {
  return { id: randomUUID(), traceparent };
}

/**
 * Thrown inside the transaction when the inbox already has this MessageSid (a redelivery
 * the idempotency store did not answer, or a spooled copy stored first): everything the
 * transaction wrote is rolled back, and the stored row decides instead.
 */
class AlreadyRecorded extends Error {
  constructor() {
    super('the inbox already holds this MessageSid');
    this.name = 'AlreadyRecorded';
  }
}

/** What {@link receiveInbound} uses of the database: Prisma, and the hot path's statements. */
export type InboundDb = Pick<Database, 'prisma' | 'sql'>;

/** One delivery being received: what each path of {@link receiveInbound} works on. */
interface Delivery {
  readonly db: InboundDb;
  readonly sms: InboundSms;
  readonly payload: Record<string, string>;
  readonly deps: ProcessingDeps;
  readonly channel: ReplyChannel;
  readonly row: InboxRowRef;
}

/**
 * Receives an inbound SMS atomically: the business changes, the outbox row (when the reply
 * cannot go back in the TwiML) and the inbox row, already `processed` with its reply,
 * commit together or not at all.
 *
 * The common case (a new owner, an onboarding step that moves one client row, a message that
 * only gets an answer) is two round trips and no transaction: the route read, then ONE
 * statement that writes the client change, the outbox row and the inbox row
 * (db/inbound-statements.ts; a statement is atomic on its own). The state change applies
 * only while the client is still in the state the read saw: a concurrent message that moved
 * it first leaves this one writing nothing, and it is processed again on the full path.
 * On the system number the read is folded into the write when the sender's row can be
 * guessed (a sender this instance does not know is a new owner; one it wrote in
 * `S1_WELCOME` is still there: domain/known-owners.ts): one round trip, and the statement
 * writes only when the row it reads is the guessed one, so a wrong guess writes nothing
 * and its route read serves the write that follows.
 * Everything else (keywords, customers, allocation, the test call, the owner's commands)
 * takes the full path: one Prisma transaction, the route read that also sets its statement
 * timeout and clears a suppression, the changes, the inbox row, COMMIT.
 *
 * The inbox row is written last, by an upsert that only takes over this delivery's own
 * `received` row ({@link recordReceivedInbound}, written when the webhook could not wait): a
 * concurrent delivery of the same MessageSid waits on the unique index until this one
 * commits, then finds the row (exactly-once). When another delivery's row was already there,
 * the work is undone (the statement fails as a whole, or the transaction rolls back) and
 * that row decides: its first answer again when it was processed, otherwise it is processed
 * now under its row lock ({@link processInbound}), its reply through the outbox (an earlier
 * delivery was answered with the holding text).
 *
 * Until this resolves nothing of the message is stored (the sender's suppression may be
 * cleared: they texted): the caller answers the webhook only after it resolved, or after it
 * stored the event some other way (the `failed` row when this throws:
 * {@link recordFailedInbound}; the `received` row when it is too slow).
 *
 * @param db - The app's database: Prisma, and the hot path's statement runner.
 * @param sms - The SMS, read from the webhook's parameters once.
 * @param payload - The storable webhook parameters (kept with the inbox row).
 * @param deps - What processing needs from outside.
 * @param channel - Decides whether the reply goes back in the TwiML or through the outbox.
 * @param row - The inbox row's id and the webhook span's context ({@link newInboxRow}).
 * @returns The outcome and the inbox row's id.
 * @throws What processing or the database throws; nothing was stored then.
 * @example
 * ```ts
 * const channel = new ReplyChannel();
 * const outcome = await receiveInbound(ctx.db, sms, params, ctx.processing, channel, newInboxRow(activeTraceparent()));
 * ```
 */
export function receiveInbound(
  db: InboundDb,
  sms: InboundSms,
  payload: Record<string, string>,
  deps: ProcessingDeps,
  channel: ReplyChannel,
  row: InboxRowRef,
): Promise<ReceivedInbound> {
  const { id, traceparent } = row;
  // Linked to the span whose context the row keeps, as the queued retries' spans are.
  return inMessageSpan('sms.process', { linkTo: traceparent, attributes: { 'app.inbox.id': id, 'app.sms.path': 'one_statement' } }, async (span) => {
    let outcome: ReceivedInbound | undefined;
    try {
      // A keyword is applied between the suppression clearing and the routing: full path.
      const delivery: Delivery = { db, sms, payload, deps, channel, row };
      if (classifySmsKeyword(sms.body) === undefined) outcome = await receiveInOneStatement(delivery);
      if (outcome === undefined) {
        // The full path may move the sender's row in ways this instance does not follow.
        deps.knownOwners?.forget(sms.from);
        span.setAttribute('app.sms.path', 'one_transaction');
        outcome = await receiveInTransaction(delivery);
      }
    } catch (error) {
      if (!(error instanceof AlreadyRecorded)) throw error;
      const stored = await recordInbound(db.prisma, sms, payload);
      span.setAttribute('app.sms.path', 'stored_before');
      if (stored.status === 'processed' || stored.status === 'dead_letter') {
        outcome = { kind: 'already_processed', answer: stored.answer, inboxId: stored.id };
      } else {
        // A row stored but not processed was answered with the holding text already (a
        // failed or too-slow delivery, the spool, a redelivery in flight), and Twilio may
        // act on that answer: this one says the same, and the reply goes through the
        // outbox, so it reaches the customer whichever answer Twilio acts on.
        // (A channel of its own: the undone attempt may have claimed the TwiML one.)
        const viaOutbox = new ReplyChannel();
        viaOutbox.close();
        outcome = { ...(await processInbound(db.prisma, stored.id, deps, viaOutbox)), inboxId: stored.id };
      }
    }
    span.setAttributes({
      'app.inbox.id': outcome.inboxId,
      'app.sms.outcome': outcome.kind === 'processed' ? `processed_via_${outcome.viaTwiml ? 'twiml' : 'outbox'}` : outcome.kind,
    });
    return outcome;
  });
}

/**
 * The hot path: one statement with every write (see {@link receiveInbound}), after the
 * route read, or on a guess of the sender's client row ({@link receiveOnGuess}) with the
 * route read inside it. Undefined when the message needs the full transaction, or when the
 * client moved on between the read and the write (nothing was written then).
 */
async function receiveInOneStatement(delivery: Delivery): Promise<ReceivedInbound | undefined> {
  const { db, sms, payload, deps, channel, row } = delivery;
  const guessed = await receiveOnGuess(delivery);
  if (guessed?.outcome !== undefined) return guessed.outcome;
  const routeRow = guessed?.route ?? (await db.sql.run<RouteRow>(routeLookup(sms, deps.systemNumber)))[0]!;
  const lookedUp = routeFromRow(routeRow, sms, deps);
  const read = lookedUp.owner == null ? null : { id: lookedUp.owner.id, state: lookedUp.owner.onboardingState };
  if (lookedUp.route.kind === 'owner') rememberOwner(deps, sms, read);
  const plan = await planSms(lookedUp, sms, deps);
  if (plan === undefined) return undefined;
  const { result, step } = plan;
  const { statement, after } = writeFor(step, read, false);
  const { rows, viaTwiml } = await runWrite<{ inboxId: string | null }>(db, channel, inboxWrite(sms, payload, row, result), statement, replyPurpose(result));
  if (rows[0]?.inboxId == null) return undefined; // the client moved on: nothing written
  if (lookedUp.route.kind === 'owner') rememberOwner(deps, sms, after);
  return { kind: 'processed', result, viaTwiml, inboxId: row.id };
}

/**
 * The hot path on a guess of the sender's client row, for a text to the system number: no
 * row (a sender this instance does not know: a new owner), or the row this instance last
 * wrote or read for them while it is in `S1_WELCOME` (domain/known-owners.ts; the only state
 * whose step depends on the state and the text alone). The step is decided on the guess,
 * and one statement reads the route, checks it against the guess and writes only when it
 * holds (db/inbound-statements.ts): one round trip instead of two. A wrong guess writes
 * nothing and returns the route it read, for the plain write. Undefined when there is no
 * guess to make (another number, an operator, an owner in another state).
 */
async function receiveOnGuess(
  delivery: Delivery,
): Promise<{ readonly outcome: ReceivedInbound; readonly route?: never } | { readonly route: RouteRow; readonly outcome?: never } | undefined> {
  const { db, sms, payload, deps, channel, row } = delivery;
  if (sms.to !== deps.systemNumber || (deps.operatorPhones ?? []).includes(sms.from)) return undefined;
  const known = deps.knownOwners?.get(sms.from);
  if (known !== undefined && known.state !== 'S1_WELCOME') return undefined;
  let step: OwnerStep | undefined;
  try {
    step = known === undefined ? await ownerStep(null, sms.body, deps) : await welcomeStep(sms.body, deps);
  } catch (error) {
    // The route read clears the sender's suppression of our number, which must happen
    // whatever becomes of the message (deliverability/suppression.ts): the guess skipped it.
    await db.sql.run(routeLookup(sms, deps.systemNumber));
    throw error;
  }
  if (step === undefined) return undefined;
  const plan = ownerPlan(step, null);
  const { result } = plan;
  // A sender this instance does not know is guessed to have no row: their step is `create`.
  const { statement, after } = writeFor(plan.step, known ?? null, true);
  const { rows, viaTwiml } = await runWrite<GuessedWriteRow>(db, channel, inboxWrite(sms, payload, row, result), statement, replyPurpose(result));
  const written = rows[0]!; // the statement returns one row, written or not
  if (written.inboxId === null) return { route: guessedRoute(written.route) };
  rememberOwner(deps, sms, after);
  return { outcome: { kind: 'processed', result, viaTwiml, inboxId: row.id } };
}

/** A hot-path write: its statement, and what this instance knows of the sender's row after it. */
interface OwnerWrite {
  readonly statement: (write: InboxWrite) => Statement;
  readonly after: KnownOwner | null;
}

/**
 * The one statement that writes an owner's step (none, create, transition) with the inbox
 * row: the plain statements after a route read, or the `*OnGuess` ones that read the route
 * themselves and write only while the sender's row is `before` ({@link receiveOnGuess}).
 *
 * @param before - The sender's row as read, or as guessed (null: no row).
 * @throws {@link InvariantViolation} for a transition the state machine does not allow.
 */
function writeFor(step: SmsPlan['step'], before: KnownOwner | null, onGuess: boolean): OwnerWrite {
  if (step === undefined) {
    if (!onGuess) return { statement: receiveNoChange, after: before };
    if (before === null) throw new InvariantViolation('a guessed write without a change needs a guessed row', {});
    return { statement: (write) => receiveNoChangeOnGuess(before, write), after: before };
  }
  if (step.kind === 'create') {
    const created = { id: randomUUID(), state: 'S1_WELCOME' } as const;
    const create = onGuess ? receiveNewOwnerOnGuess : receiveNewOwner;
    return { statement: (write) => create(created.id, write), after: created };
  }
  if (before === null || !canTransition(step.from, step.to)) {
    throw new InvariantViolation(`illegal onboarding move ${step.from} -> ${step.to}`, { clientId: before?.id });
  }
  const move = onGuess ? receiveTransitionOnGuess : receiveTransition;
  const data = { businessName: step.businessName };
  return { statement: (write) => move(before.id, step.from, step.to, data, write), after: { id: before.id, state: step.to } };
}

/**
 * What a hot-path write stores: the inbox row, and the outbox row when the reply cannot go
 * in the TwiML (decided by {@link runWrite}). The span's context is read here, in the
 * message's span: the outbox row carries it on to the send, as enqueueSms does.
 */
function inboxWrite(sms: InboundSms, payload: Record<string, string>, row: InboxRowRef, result: ProcessingResult): (viaTwiml: boolean) => InboxWrite {
  const payloadJson = JSON.stringify(payload);
  const outboxTraceparent = activeTraceparent();
  return (viaTwiml) => ({
    inboxId: row.id,
    sms,
    payloadJson,
    reply: result.reply,
    traceparent: row.traceparent,
    outbox: viaTwiml ? null : { id: randomUUID(), purpose: replyPurpose(result), traceparent: outboxTraceparent },
  });
}

/**
 * Runs a hot-path write, claiming the TwiML answer only once a connection is held and the
 * statement is about to leave (StatementRunner.runBuilt): while it waits for a connection
 * the webhook is free to give up and answer with the holding text, and the write then puts
 * the reply in the outbox. Another delivery's inbox row of this MessageSid is
 * {@link AlreadyRecorded}.
 */
async function runWrite<Row>(
  db: InboundDb,
  channel: ReplyChannel,
  write: (viaTwiml: boolean) => InboxWrite,
  statement: (write: InboxWrite) => Statement,
  purpose: OutboundPurpose,
): Promise<{ readonly rows: Row[]; readonly viaTwiml: boolean }> {
  let viaTwiml = false;
  try {
    const rows = await db.sql.runBuilt<Row>(() => {
      viaTwiml = channel.claimForTwiml(purpose);
      return statement(write(viaTwiml));
    });
    return { rows, viaTwiml };
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === alreadyRecordedCode) throw new AlreadyRecorded();
    throw error;
  }
}

/** Keeps (or, for a sender with no client row, drops) what this instance knows of the sender's row. */
function rememberOwner(deps: ProcessingDeps, sms: InboundSms, owner: KnownOwner | null): void {
  if (owner === null) deps.knownOwners?.forget(sms.from);
  else deps.knownOwners?.remember(sms.from, owner);
}

/** The full path: one Prisma transaction (see {@link receiveInbound}). */
async function receiveInTransaction(delivery: Delivery): Promise<ReceivedInbound> {
  const { sms, payload, deps, channel, row } = delivery;
  const db = delivery.db.prisma;
  const { id, traceparent } = row;
  return db.$transaction(
    async (tx) => {
      let result: ProcessingResult;
      if (classifySmsKeyword(sms.body) === undefined) {
        result = await processSms(tx, sms, deps, await lookupRoute(tx, sms, deps, messageTransactionTimeoutMs));
      } else {
        // A keyword is applied between the suppression clearing and the routing.
        await setLocalStatementTimeout(tx, messageTransactionTimeoutMs);
        const compliance = await applyInboundDeliverability(tx, sms);
        result = compliance === undefined ? await processSms(tx, sms, deps) : { route: 'compliance', reply: compliance, urgent: false, events: [] };
      }
      const viaTwiml = await answerPath(tx, sms, result, channel);
      // The reply stays with the row: a redelivery the idempotency store no longer knows
      // (Redis restarted empty, the record expired) is answered with it again.
      const written = await tx.$queryRaw<Array<{ id: string }>>`
        INSERT INTO "inbound_events" ("id", "message_sid", "payload", "status", "attempts", "processed_at", "reply", "reply_via", "traceparent")
        VALUES (${id}, ${sms.messageSid}, ${JSON.stringify(payload)}::jsonb, 'processed', 1, ${new Date()}, ${result.reply}, ${viaTwiml ? 'twiml' : 'outbox'}, ${traceparent})
        ON CONFLICT ("message_sid") DO UPDATE
          SET "status" = 'processed', "attempts" = "inbound_events"."attempts" + 1, "processed_at" = EXCLUDED."processed_at", "last_error" = NULL,
              "reply" = EXCLUDED."reply", "reply_via" = EXCLUDED."reply_via"
          WHERE "inbound_events"."id" = EXCLUDED."id" AND "inbound_events"."status" = 'received'
        RETURNING "id"`;
      if (written.length === 0) throw new AlreadyRecorded();
      return { kind: 'processed', result, viaTwiml, inboxId: id } as const;
    },
    { timeout: messageTransactionTimeoutMs, maxWait: 5000 },
  );
}

/**
 * Stores the raw event of an SMS whose one transaction ({@link receiveInbound}) is slower
 * than the webhook may wait: the inbox row, `received`, under the delivery's own id, so the
 * transaction takes it over when it commits (and a Twilio retry or the sweep finds it
 * meanwhile). One statement; a row already there (the transaction's, or another delivery's)
 * is left as it is.
 *
 * @returns Whether this call wrote the row.
 * @throws What the database throws (the caller spools the event then).
 * @example
 * ```ts
 * await recordReceivedInbound(ctx.db.prisma, sms, params, ref);
 * ```
 */
export async function recordReceivedInbound(db: Db, sms: InboundSms, payload: Record<string, string>, row: InboxRowRef): Promise<boolean> {
  const created = await db.inboundEvent.createMany({
    data: [{ id: row.id, messageSid: sms.messageSid, payload, traceparent: row.traceparent }],
    skipDuplicates: true,
  });
  return created.count === 1;
}

/** The inbox row {@link recordFailedInbound} wrote or found. */
export interface FailedInbound {
  readonly id: string;
  readonly status: string;
  /** False when another delivery had processed (or dead-lettered) the row already. */
  readonly recorded: boolean;
  /** That delivery's first answer, when `recorded` is false. */
  readonly answer: StoredAnswer | undefined;
}

/**
 * Records an SMS whose one transaction ({@link receiveInbound}) failed: the inbox row with
 * the raw event, `failed` (to be retried) or `dead_letter` (an invariant violation), and the
 * scrubbed error; one statement. A row another delivery already processed is left as it is
 * (its answer is returned: the failure was this duplicate's, say a unique key it hit again).
 *
 * @throws What the database throws (the caller spools the event then).
 * @example
 * ```ts
 * const failed = await recordFailedInbound(ctx.db.prisma, sms, params, ref, error);
 * if (failed.recorded && failed.status === 'failed') await queueInboundRetry(ctx, failed.id, sms.messageSid);
 * ```
 */
export async function recordFailedInbound(db: Db, sms: InboundSms, payload: Record<string, string>, row: InboxRowRef, error: unknown): Promise<FailedInbound> {
  const status = isHardeningError(error) && error.code === 'INVARIANT_VIOLATION' ? 'dead_letter' : 'failed';
  const lastError = scrubText(error instanceof Error ? error.message : String(error)).slice(0, 500);
  const rows = await db.$queryRaw<Array<{ id: string; status: string }>>`
    INSERT INTO "inbound_events" ("id", "message_sid", "payload", "status", "attempts", "last_error", "traceparent")
    VALUES (${row.id}, ${sms.messageSid}, ${JSON.stringify(payload)}::jsonb, ${status}, 1, ${lastError}, ${row.traceparent})
    ON CONFLICT ("message_sid") DO UPDATE
      SET "status" = EXCLUDED."status", "attempts" = "inbound_events"."attempts" + 1, "last_error" = EXCLUDED."last_error"
      WHERE "inbound_events"."status" NOT IN ('processed', 'dead_letter')
    RETURNING "id", "status"`;
  if (rows[0] !== undefined) return { ...rows[0], recorded: true, answer: undefined };
  const found = await db.inboundEvent.findUniqueOrThrow({
    where: { messageSid: sms.messageSid },
    select: { id: true, status: true, reply: true, replyVia: true },
  });
  return { id: found.id, status: found.status, recorded: false, answer: storedAnswer(found) };
}
