/**
 * The statements of an inbound SMS's hot path, as named prepared statements
 * (`{ name, text, values }`): node-postgres parses each text once per connection, PGlite
 * runs the same text. Two round trips for a new message, no `BEGIN`/`COMMIT`: the route
 * read ({@link routeLookup}), then ONE statement that writes everything the message
 * changes ({@link receiveNewOwner}, {@link receiveTransition}, {@link receiveNoChange}):
 * a single statement is atomic on its own, so the state change, the outbox row and the
 * inbox row commit together or not at all, as the transaction they replace did.
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

/** A named prepared statement (node-postgres' query config; PGlite uses text and values). */
export interface Statement {
  readonly name: string;
  readonly text: string;
  readonly values: unknown[];
}

/** SQLSTATE raised by `app_refuse`: this MessageSid's inbox row is another delivery's. */
export const alreadyRecordedCode = 'HA001';

/** The client columns, as the `Client` model names them. */
const clientColumns = `c."id", c."phone", c."business_name" AS "businessName", c."service_area" AS "serviceArea", c."payment_active" AS "paymentActive",
  c."outbound_paused" AS "outboundPaused", c."onboarding_state"::text AS "onboardingState", c."state_entered_at" AS "stateEnteredAt",
  c."stuck_detected_at" AS "stuckDetectedAt", c."stripe_customer_id" AS "stripeCustomerId", c."created_at" AS "createdAt", c."updated_at" AS "updatedAt"`;

const numberColumns = `n."id" AS "numberId", n."role"::text AS "numberRole", n."status"::text AS "numberStatus", n."client_id" AS "numberClientId", n."phone_number" AS "numberPhone"`;

// The suppression of this sender (`from`) of our number (`to`) is cleared with the route
// read, in its own autocommit or in the write that reads the route itself: they texted, so
// their number works (deliverability/suppression.ts), whatever becomes of the message's
// processing.
const clearSuppression = (to: string, from: string) => `"cleared" AS (DELETE FROM "sms_suppressions" WHERE "from_phone" = ${to} AND "to_phone" = ${from})`;

// The system number's route: the pool row of the number texted, the sender's client row,
// and, when there is none, whether they got the fail-safe text. Two texts (this one and
// the client number's, not one with a flag) so each join is a plain index lookup.
const systemRoute = (to: string, from: string) => `
SELECT ${numberColumns},
       CASE WHEN c."id" IS NULL THEN EXISTS (SELECT 1 FROM "outbound_messages" o WHERE o."to_phone" = ${from} AND o."from_phone" = ${to} AND o."purpose" = 'failsafe') ELSE false END AS "failsafeSent",
       ${clientColumns}
  FROM (SELECT 1) AS "one"
  LEFT JOIN "pool_numbers" n ON n."phone_number" = ${to}
  LEFT JOIN "clients" c ON c."phone" = ${from}`;

const lookupSystemText = `WITH ${clearSuppression('$1', '$2')}${systemRoute('$1', '$2')}`;

const lookupClientNumberText = `
WITH ${clearSuppression('$1', '$2')}
SELECT ${numberColumns}, false AS "failsafeSent", ${clientColumns}
  FROM (SELECT 1) AS "one"
  LEFT JOIN "pool_numbers" n ON n."phone_number" = $1
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
  return sms.to === systemNumber
    ? { name: 'sms_route_system', text: lookupSystemText, values: [sms.to, sms.from] }
    : { name: 'sms_route_client_number', text: lookupClientNumberText, values: [sms.to, sms.from] };
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

// $1-$9: the inbox row and the outbox row. `FROM "gate"`: written only when the state
// change before it was (a gate of one row when there is none).
const inboxAndOutbox = `
"inbox" AS (
  INSERT INTO "inbound_events" ("id", "message_sid", "payload", "status", "attempts", "processed_at", "reply", "reply_via", "traceparent")
  SELECT $1, $2, $3::jsonb, 'processed', 1, now(), $4, CASE WHEN $7::text IS NULL THEN 'twiml' ELSE 'outbox' END, $5 FROM "gate"
  ON CONFLICT ("message_sid") DO UPDATE
    SET "status" = CASE WHEN "inbound_events"."id" = EXCLUDED."id" AND "inbound_events"."status" = 'received' THEN 'processed'
                        ELSE app_refuse('the inbox already holds this MessageSid') END,
        "attempts" = "inbound_events"."attempts" + 1, "processed_at" = EXCLUDED."processed_at", "last_error" = NULL,
        "reply" = EXCLUDED."reply", "reply_via" = EXCLUDED."reply_via"
  RETURNING "id"
),
"outbox" AS (
  INSERT INTO "outbound_messages" ("id", "to_phone", "from_phone", "body", "purpose", "traceparent")
  SELECT $7, $6, $8, $4, $9, $10 FROM "inbox" WHERE $7::text IS NOT NULL
)`;

function inboxValues(w: InboxWrite): unknown[] {
  return [
    w.inboxId,
    w.sms.messageSid,
    w.payloadJson,
    w.reply,
    w.traceparent,
    w.sms.from,
    w.outbox?.id ?? null,
    w.sms.to,
    w.outbox?.purpose ?? null,
    w.outbox?.traceparent ?? null,
  ];
}

// A plain write: the gate, then the inbox and outbox rows. `inboxId` null: the gate wrote
// nothing (the client moved on).
function plainWrite(name: string, gate: string, values: unknown[]): Statement {
  return { name, text: `\nWITH "gate" AS (${gate}),${inboxAndOutbox}\nSELECT (SELECT "id" FROM "inbox") AS "inboxId"`, values };
}

// $11-$14: the client's id, the state it must be in, the state it moves to, the business
// name when one was given.
const moveClient = `
  UPDATE "clients" SET "onboarding_state" = $13::"OnboardingState", "business_name" = COALESCE($14, "business_name"),
                       "state_entered_at" = now(), "updated_at" = now()
   WHERE "id" = $11 AND "onboarding_state" = $12::"OnboardingState"`;

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
  return plainWrite('sms_receive_new_owner', `INSERT INTO "clients" ("id", "phone") VALUES ($11, $6) RETURNING "id"`, [...inboxValues(w), clientId]);
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
  return plainWrite('sms_receive_transition', `${moveClient}\n  RETURNING "id"`, [...inboxValues(w), clientId, from, to, data.businessName ?? null]);
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
  return plainWrite('sms_receive_no_change', 'SELECT 1', inboxValues(w));
}

/**
 * What the hot path guesses of the sender's client row on the system number instead of
 * reading it first (domain/known-owners.ts): none (a new owner), or this id in this state.
 */
export type OwnerGuess = { readonly id: string; readonly state: string } | null;

/**
 * The row a write on a guess returns: the inbox row's id when the guess held and
 * everything was written, null when it did not (nothing was written but the suppression's
 * clearing), and the route as the statement read it, for the write that follows then.
 */
export type GuessedWriteRow = RouteRow & { inboxId: string | null };

// The pool row of the number texted is the system number's, as routing.ts' checkSystemNumber
// requires: a guess is written only then (otherwise the route read's path throws).
const systemNumberSound = `(r."numberId" IS NULL OR (r."numberRole" = 'SYSTEM' AND r."numberClientId" IS NULL))`;

// A write on a guess: the route read of the system number ($8 the number, $6 the sender)
// and the suppression's clearing, the gate (written only when the route it read is the
// guessed one), the inbox and outbox rows; it returns the route with the inbox row's id.
// The CTEs share one snapshot, so the route is what the gate was checked against.
function writeOnGuess(name: string, gate: string, values: unknown[]): Statement {
  return {
    name,
    text: `
WITH ${clearSuppression('$8', '$6')},
"route" AS (${systemRoute('$8', '$6')}
),
"gate" AS (${gate}),${inboxAndOutbox}
SELECT (SELECT "id" FROM "inbox") AS "inboxId", r.* FROM "route" r`,
    values,
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
 * if (row.inboxId === null) routeFromRow(row, sms, deps); // the guess was wrong
 * ```
 */
export function receiveNewOwnerOnGuess(clientId: string, w: InboxWrite): Statement {
  const gate = `
  INSERT INTO "clients" ("id", "phone")
  SELECT $11, $6 FROM "route" r WHERE r."id" IS NULL AND NOT r."failsafeSent" AND ${systemNumberSound}
  RETURNING "id"`;
  return writeOnGuess('sms_guess_new_owner', gate, [...inboxValues(w), clientId]);
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
  const gate = `${moveClient}
     AND "phone" = $6 AND EXISTS (SELECT 1 FROM "route" r WHERE r."id" = $11 AND ${systemNumberSound})
  RETURNING "id"`;
  return writeOnGuess('sms_guess_transition', gate, [...inboxValues(w), clientId, from, to, data.businessName ?? null]);
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
  const gate = `SELECT 1 FROM "route" r WHERE r."id" = $11 AND r."onboardingState" = $12::text AND ${systemNumberSound}`;
  return writeOnGuess('sms_guess_no_change', gate, [...inboxValues(w), guess.id, guess.state]);
}
