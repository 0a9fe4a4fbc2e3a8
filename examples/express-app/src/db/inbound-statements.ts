/**
 * The statements of an inbound SMS's hot path, as named prepared statements
 * (`{ name, text, values }`): node-postgres parses each text once per connection, PGlite
 * runs the same text. One round trip for a new message in the common case, two otherwise,
 * no `BEGIN`/`COMMIT`: the route read ({@link routeLookup}), then ONE statement that writes
 * everything the message changes ({@link receiveNewOwner}, {@link receiveTransition},
 * {@link receiveNoChange}); or, on a guess of the sender's client row, that statement with
 * the route read inside it, writing only when the row is the guessed one
 * ({@link receiveNewOwnerOnGuess}, {@link receiveTransitionOnGuess},
 * {@link receiveNoChangeOnGuess}). A single statement is atomic on its own, so the state
 * change, the outbox row and the inbox row commit together or not at all, as the
 * transaction they replace did.
 *
 * Why not Prisma here: `bench/prisma-vs-pg.bench.ts` runs these statements through Prisma 7
 * (interactive transaction, `$queryRaw`, as the app did) and through `pg` in the same run.
 * Two runs on this shared 2-core machine (8 concurrent, pool of 8, 5 rounds of 1000; the
 * medians; CPU is the Node process's per message: driver and client, not the database):
 *
 * | shape of a new owner's first text | load 17.6 | load 12.8 | CPU ms/msg |
 * | --- | ---: | ---: | ---: |
 * | Prisma 7 `$transaction` + `$queryRaw` (BEGIN, read, insert, upsert, COMMIT) | 483 msg/s | 134 msg/s | 1.85-3.01 (1x) |
 * | `pg`, the same five round trips, named statements | 3.30x | 4.04x | 0.21-0.23x |
 * | `pg`, two round trips (read; one data-modifying CTE) | 3.83x | 6.11x | 0.11-0.16x |
 *
 * A later run (load 1.2-3.5, 5 rounds of 2000) added the write on a guess, with the route
 * read inside it: 5.36x Prisma's throughput and 0.10x its CPU, where the two round trips
 * gave 4.33x and 0.15x in the same run.
 *
 * Prisma costs 5-9x the CPU of `pg` for the same statements (the query plan interpreter,
 * its transaction manager, the result mapping), and the app was CPU-bound on this path.
 * Prisma stays for the schema, the migrations, the admin side and every path off this one.
 *
 * Every write ends in the inbox upsert, which takes over only this delivery's own
 * `received` row (written when the webhook could not wait, under the same id). Any other
 * row of this MessageSid makes the whole statement fail through `app_refuse` (SQLSTATE
 * {@link alreadyRecordedCode}; migration `20261207000000_hot_path_refuse`): plain SQL has
 * no RAISE, and the state change before it in the same statement must be undone with it.
 */
import type { InboundSms, RouteRow } from '../domain/routing.js';
import { namedStatement, type Statement } from './named-statement.js';

/** SQLSTATE raised by `app_refuse`: this MessageSid's inbox row is another delivery's. */
export const alreadyRecordedCode = 'HA001';

/** The client columns, as the `Client` model names them. */
const clientColumns = `c."id", c."phone", c."business_name" AS "businessName", c."service_area" AS "serviceArea", c."payment_active" AS "paymentActive",
  c."outbound_paused" AS "outboundPaused", c."onboarding_state"::text AS "onboardingState", c."state_entered_at" AS "stateEnteredAt",
  c."stuck_detected_at" AS "stuckDetectedAt", c."stripe_customer_id" AS "stripeCustomerId", c."created_at" AS "createdAt", c."updated_at" AS "updatedAt"`;

const numberColumns = `n."id" AS "numberId", n."role"::text AS "numberRole", n."status"::text AS "numberStatus", n."client_id" AS "numberClientId", n."phone_number" AS "numberPhone"`;

// The suppression of this sender ($from) of our number ($to) is cleared with the route read,
// in its own autocommit or in the write that reads the route itself: they texted, so their
// number works (deliverability/suppression.ts), whatever becomes of the message's processing.
const clearSuppression = `"cleared" AS (DELETE FROM "sms_suppressions" WHERE "from_phone" = $to AND "to_phone" = $from)`;

// The system number's route: the pool row of the number texted, the sender's client row,
// and, when there is none, whether they got the fail-safe text. Two texts (this one and
// the client number's, not one with a flag) so each join is a plain index lookup.
const systemRoute = `
SELECT ${numberColumns},
       CASE WHEN c."id" IS NULL THEN EXISTS (SELECT 1 FROM "outbound_messages" o WHERE o."to_phone" = $from AND o."from_phone" = $to AND o."purpose" = 'failsafe') ELSE false END AS "failsafeSent",
       ${clientColumns}
  FROM (SELECT 1) AS "one"
  LEFT JOIN "pool_numbers" n ON n."phone_number" = $to
  LEFT JOIN "clients" c ON c."phone" = $from`;

const lookupSystemText = `WITH ${clearSuppression}${systemRoute}`;

const lookupClientNumberText = `
WITH ${clearSuppression}
SELECT ${numberColumns}, false AS "failsafeSent", ${clientColumns}
  FROM (SELECT 1) AS "one"
  LEFT JOIN "pool_numbers" n ON n."phone_number" = $to
  LEFT JOIN "clients" c ON c."id" = n."client_id"`;

/**
 * The route read of an inbound SMS, outside any transaction: the number texted, the client
 * (for the system number the sender's row and whether they got the fail-safe text, for a
 * client's number that client), after clearing the sender's suppression.
 *
 * @example
 * ```ts
 * const [row] = await sql.query<RouteRow>(routeLookup(sms, '+15550000000'));
 * ```
 */
export function routeLookup(sms: InboundSms, systemNumber: string): Statement {
  const params = { to: sms.to, from: sms.from };
  return sms.to === systemNumber
    ? namedStatement('sms_route_system', lookupSystemText, params)
    : namedStatement('sms_route_client_number', lookupClientNumberText, params);
}

/** What every hot-path write stores with the inbox row, and the outbox row it may add. */
export interface InboxWrite {
  readonly inboxId: string;
  readonly sms: InboundSms;
  /** The storable webhook parameters, as JSON. */
  readonly payloadJson: string;
  readonly reply: string;
  readonly traceparent: string | null;
  /** The outbox row, when the reply cannot go back in the TwiML (null: it does). */
  readonly outbox: { readonly id: string; readonly purpose: string; readonly traceparent: string | null } | null;
}

// The inbox row, `processed`, with the way its reply went. `FROM "gate"`: written only when
// the state change before it was (a gate of one row when there is none).
const inbox = (via: 'twiml' | 'outbox') => `
"inbox" AS (
  INSERT INTO "inbound_events" ("id", "message_sid", "payload", "status", "attempts", "processed_at", "reply", "reply_via", "traceparent")
  SELECT $inboxId, $messageSid, $payload::jsonb, 'processed', 1, now(), $reply, '${via}', $traceparent FROM "gate"
  ON CONFLICT ("message_sid") DO UPDATE
    SET "status" = CASE WHEN "inbound_events"."id" = EXCLUDED."id" AND "inbound_events"."status" = 'received' THEN 'processed'
                        ELSE app_refuse('the inbox already holds this MessageSid') END,
        "attempts" = "inbound_events"."attempts" + 1, "processed_at" = EXCLUDED."processed_at", "last_error" = NULL,
        "reply" = EXCLUDED."reply", "reply_via" = EXCLUDED."reply_via"
  RETURNING "id"
)`;

// The outbox row, written with the inbox row.
const outbox = `,
"outbox" AS (
  INSERT INTO "outbound_messages" ("id", "to_phone", "from_phone", "body", "purpose", "traceparent")
  SELECT $outboxId, $from, $to, $reply, $outboxPurpose, $outboxTraceparent FROM "inbox"
)`;

/** A write's two texts: the reply in the TwiML, or through the outbox row. */
interface WriteTexts {
  readonly name: string;
  readonly viaTwiml: string;
  readonly viaOutbox: string;
}

/**
 * The texts of a write: `head` (the gate, and what it reads), the inbox row, and the outbox
 * row only when the reply goes there. Two texts (and names), not one with the outbox
 * `INSERT` under a condition: an `INSERT` that never runs still opens its table and indexes
 * on every run (pgbench, 4 clients, four alternating 6 s runs each: 5,930 statements/s
 * without it, 5,440 with it, medians).
 */
function writeTexts(name: string, head: string, select: string): WriteTexts {
  return { name, viaTwiml: `${head}${inbox('twiml')}\n${select}`, viaOutbox: `${head}${inbox('outbox')}${outbox}\n${select}` };
}

/** One of a write's statements, with the inbox row's values and the client's (`client`). */
function writeStatement(texts: WriteTexts, w: InboxWrite, client: Readonly<Record<string, unknown>>): Statement {
  const params = {
    ...client,
    inboxId: w.inboxId,
    messageSid: w.sms.messageSid,
    payload: w.payloadJson,
    reply: w.reply,
    traceparent: w.traceparent,
    from: w.sms.from,
    to: w.sms.to,
    outboxId: w.outbox?.id,
    outboxPurpose: w.outbox?.purpose,
    outboxTraceparent: w.outbox?.traceparent,
  };
  return w.outbox === null ? namedStatement(texts.name, texts.viaTwiml, params) : namedStatement(`${texts.name}_via_outbox`, texts.viaOutbox, params);
}

// A plain write: the gate, then the inbox and outbox rows. `inboxId` null: the gate wrote
// nothing (the client moved on).
const plainWrite = (name: string, gate: string) => writeTexts(name, `\nWITH "gate" AS (${gate}),`, 'SELECT (SELECT "id" FROM "inbox") AS "inboxId"');

// A write on a guess: the route read of the system number and the suppression's clearing,
// the gate (written only when the route it read is the guessed one), the inbox and outbox
// rows; it returns the inbox row's id, and the route (as one JSON value) only when nothing
// was written. The CTEs share one snapshot, so the route is what the gate was checked against.
// One JSON column, not the route's 18: node-postgres builds a parser and a row template
// for every column of every result (pg's Result.addFields was 2.3 % of POST /sms's busy
// time under pnpm bench:app), and the route is needed only when the guess was wrong.
const writeOnGuess = (name: string, gate: string) =>
  writeTexts(
    name,
    `
WITH ${clearSuppression},
"route" AS (${systemRoute}
),
"gate" AS (${gate}),`,
    `SELECT w."inboxId", CASE WHEN w."inboxId" IS NULL THEN (SELECT to_json(r) FROM "route" r) END AS "route"
  FROM (SELECT (SELECT "id" FROM "inbox") AS "inboxId") w`,
  );

// The move of a client from one state to the next, with the business name when one was given.
const moveClient = `
  UPDATE "clients" SET "onboarding_state" = $toState::"OnboardingState", "business_name" = COALESCE($businessName, "business_name"),
                       "state_entered_at" = now(), "updated_at" = now()
   WHERE "id" = $clientId AND "onboarding_state" = $fromState::"OnboardingState"`;

// The pool row of the number texted is the system number's, as routing.ts' checkSystemNumber
// requires: a guess is written only then (otherwise the route read's path throws).
const systemNumberSound = `(r."numberId" IS NULL OR (r."numberRole" = 'SYSTEM' AND r."numberClientId" IS NULL))`;

const newOwner = plainWrite('sms_receive_new_owner', `INSERT INTO "clients" ("id", "phone") VALUES ($clientId, $from) RETURNING "id"`);
const transition = plainWrite('sms_receive_transition', `${moveClient}\n  RETURNING "id"`);
const noChange = plainWrite('sms_receive_no_change', 'SELECT 1');
const newOwnerOnGuess = writeOnGuess(
  'sms_guess_new_owner',
  `
  INSERT INTO "clients" ("id", "phone")
  SELECT $clientId, $from FROM "route" r WHERE r."id" IS NULL AND NOT r."failsafeSent" AND ${systemNumberSound}
  RETURNING "id"`,
);
const transitionOnGuess = writeOnGuess(
  'sms_guess_transition',
  `${moveClient}
     AND "phone" = $from AND EXISTS (SELECT 1 FROM "route" r WHERE r."id" = $clientId AND ${systemNumberSound})
  RETURNING "id"`,
);
const noChangeOnGuess = writeOnGuess(
  'sms_guess_no_change',
  `SELECT 1 FROM "route" r WHERE r."id" = $clientId AND r."onboardingState" = $fromState::text AND ${systemNumberSound}`,
);

/**
 * A new owner's first text: the client row (S1) and the inbox row, in one statement. A
 * client already there with this phone (two first texts at once) fails the statement on
 * the unique index, as the transaction's `INSERT` did.
 *
 * @example
 * ```ts
 * const [row] = await sql.query<{ inboxId: string }>(receiveNewOwner(randomUUID(), write));
 * ```
 */
export function receiveNewOwner(clientId: string, w: InboxWrite): Statement {
  return writeStatement(newOwner, w, { clientId });
}

/**
 * An onboarding step that moves the client (`from` to `to`, with the business name when it
 * was given) and the inbox row, in one statement. Only while the client is still in `from`:
 * a concurrent message that moved it first leaves this one writing nothing (`inboxId`
 * null), to be processed again on the full path.
 *
 * @example
 * ```ts
 * const [row] = await sql.query<{ inboxId: string | null }>(receiveTransition(client.id, 'S1_WELCOME', 'S2_BUSINESS_NAME', { businessName }, write));
 * ```
 */
export function receiveTransition(clientId: string, from: string, to: string, data: { readonly businessName?: string }, w: InboxWrite): Statement {
  return writeStatement(transition, w, { clientId, fromState: from, toState: to, businessName: data.businessName ?? null });
}

/**
 * A message that changes nothing but the inbox (an operator's answer, a caller, a number
 * we do not use, an onboarding answer we must ask again): the inbox row alone.
 *
 * @example
 * ```ts
 * await sql.query(receiveNoChange(write));
 * ```
 */
export function receiveNoChange(w: InboxWrite): Statement {
  return writeStatement(noChange, w, {});
}

/**
 * What the hot path guesses of the sender's client row on the system number instead of
 * reading it first (domain/known-owners.ts): none (a new owner), or this id in this state.
 */
export type OwnerGuess = { readonly id: string; readonly state: string } | null;

/**
 * The row a write on a guess returns: the inbox row's id when the guess held and
 * everything was written (`route` null); when it did not (nothing was written but the
 * suppression's clearing), a null id and the route as the statement read it, as JSON, for
 * the write that follows ({@link guessedRoute}).
 */
export type GuessedWriteRow = { readonly inboxId: string; readonly route: null } | { readonly inboxId: null; readonly route: RouteJson };

/** A {@link RouteRow} as `to_json` writes it: its timestamps as ISO 8601 text with their offset. */
export type RouteJson = Omit<RouteRow, RouteDate> & { readonly [K in RouteDate]: RouteRow[K] extends Date ? string : string | null };

type RouteDate = 'stateEnteredAt' | 'stuckDetectedAt' | 'createdAt' | 'updatedAt';

/**
 * The route a wrong guess read, as the route read returns it (the client's timestamps are
 * `timestamptz`: their JSON text carries the offset, so nothing is left to the time zone).
 *
 * @example
 * ```ts
 * const [row] = await sql.run<GuessedWriteRow>(receiveNewOwnerOnGuess(randomUUID(), write));
 * if (row.inboxId === null) routeFromRow(guessedRoute(row.route), sms, deps);
 * ```
 */
export function guessedRoute(json: RouteJson): RouteRow {
  const date = (text: string | null) => (text === null ? null : new Date(text));
  return {
    ...json,
    stateEnteredAt: date(json.stateEnteredAt)!,
    stuckDetectedAt: date(json.stuckDetectedAt),
    createdAt: date(json.createdAt)!,
    updatedAt: date(json.updatedAt)!,
  };
}

/**
 * {@link receiveNewOwner} on the guess that the sender has no client row (and is not a
 * caller who got the fail-safe text), with the route read in the same statement: one round
 * trip when the guess holds; when it does not, nothing is written (`inboxId` null) and the
 * route comes back for the write that follows.
 *
 * @example
 * ```ts
 * const [row] = await sql.run<GuessedWriteRow>(receiveNewOwnerOnGuess(randomUUID(), write));
 * if (row.inboxId === null) routeFromRow(guessedRoute(row.route), sms, deps); // the guess was wrong
 * ```
 */
export function receiveNewOwnerOnGuess(clientId: string, w: InboxWrite): Statement {
  return writeStatement(newOwnerOnGuess, w, { clientId });
}

/**
 * {@link receiveTransition} on the guess that the sender's client row is `clientId` in
 * `from`, with the route read in the same statement (see {@link receiveNewOwnerOnGuess}).
 *
 * @example
 * ```ts
 * const [row] = await sql.run<GuessedWriteRow>(receiveTransitionOnGuess(known.id, 'S1_WELCOME', 'S2_BUSINESS_NAME', { businessName }, write));
 * ```
 */
export function receiveTransitionOnGuess(clientId: string, from: string, to: string, data: { readonly businessName?: string }, w: InboxWrite): Statement {
  return writeStatement(transitionOnGuess, w, { clientId, fromState: from, toState: to, businessName: data.businessName ?? null });
}

/**
 * {@link receiveNoChange} on the guess that the sender's client row is `guess.id` in
 * `guess.state` (an answer that only asks again), with the route read in the same statement
 * (see {@link receiveNewOwnerOnGuess}).
 *
 * @example
 * ```ts
 * const [row] = await sql.run<GuessedWriteRow>(receiveNoChangeOnGuess(known, write));
 * ```
 */
export function receiveNoChangeOnGuess(guess: NonNullable<OwnerGuess>, w: InboxWrite): Statement {
  return writeStatement(noChangeOnGuess, w, { clientId: guess.id, fromState: guess.state });
}
