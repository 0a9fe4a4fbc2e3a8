import { maskPhoneNumber } from '@hardening/core';
import type { DbOrTx } from '../db/types.js';

/** A rule the data must always satisfy; a violation means a bug or a bad manual edit. */
export interface DataInvariant {
  /** What must hold, in words (the alert's resource id). */
  readonly name: string;
  /** `true` when it holds; otherwise what is wrong (ids only: never a full phone number). */
  check(db: DbOrTx): Promise<true | string>;
}

const sample = 5;

function violation(what: string, ids: readonly string[], count: number): true | string {
  if (count === 0) return true;
  const more = count > ids.length ? ` and ${count - ids.length} more` : '';
  return `${count} ${what}: ${ids.join(', ')}${more}`;
}

/**
 * The app's data invariants, checked at start-up and every monitor round (an
 * INVARIANT_VIOLATION alert per broken rule):
 *
 * - every ASSIGNED number has a client, and an AVAILABLE one has none;
 * - the system number is never assigned, is the only SYSTEM number, and is TWILIO_FROM_NUMBER;
 * - a client from S4_NUMBER_ALLOCATED on has a number;
 * - no owner's phone is one of the app's own numbers (its texts would loop back as onboarding).
 */
export function dataInvariants(systemNumber: string): DataInvariant[] {
  return [
    {
      name: 'assigned numbers have a client',
      async check(db) {
        const where = { status: 'ASSIGNED' as const, clientId: null };
        const [rows, count] = await Promise.all([db.poolNumber.findMany({ where, select: { id: true }, take: sample }), db.poolNumber.count({ where })]);
        return violation(
          'ASSIGNED number(s) without a client',
          rows.map((r) => r.id),
          count,
        );
      },
    },
    {
      name: 'available numbers have no client',
      async check(db) {
        const where = { status: 'AVAILABLE' as const, clientId: { not: null } };
        const [rows, count] = await Promise.all([db.poolNumber.findMany({ where, select: { id: true }, take: sample }), db.poolNumber.count({ where })]);
        return violation(
          'AVAILABLE number(s) linked to a client',
          rows.map((r) => r.id),
          count,
        );
      },
    },
    {
      name: 'the system number is never assigned',
      async check(db) {
        const where = {
          OR: [
            { role: 'SYSTEM' as const, OR: [{ status: 'ASSIGNED' as const }, { clientId: { not: null } }] },
            { phoneNumber: systemNumber, clientId: { not: null } },
          ],
        };
        const [rows, count] = await Promise.all([db.poolNumber.findMany({ where, select: { id: true }, take: sample }), db.poolNumber.count({ where })]);
        return violation(
          'system number row(s) assigned to a client',
          rows.map((r) => r.id),
          count,
        );
      },
    },
    {
      name: 'the only SYSTEM number is TWILIO_FROM_NUMBER',
      async check(db) {
        const where = {
          OR: [
            { role: 'SYSTEM' as const, phoneNumber: { not: systemNumber } },
            { role: 'CLIENT' as const, phoneNumber: systemNumber },
          ],
        };
        const rows = await db.poolNumber.findMany({ where, select: { id: true, phoneNumber: true, role: true }, take: sample });
        const count = rows.length < sample ? rows.length : await db.poolNumber.count({ where });
        return violation(
          `pool row(s) contradicting TWILIO_FROM_NUMBER ${maskPhoneNumber(systemNumber)}`,
          rows.map((r) => `${r.id} (${r.role} ${maskPhoneNumber(r.phoneNumber)})`),
          count,
        );
      },
    },
    {
      name: 'clients from S4 on have a number',
      async check(db) {
        const where = {
          onboardingState: { in: ['S4_NUMBER_ALLOCATED' as const, 'S5_CONFIRM_LIVE' as const, 'S9_TEST_CALL' as const, 'COMPLETE' as const] },
          number: { is: null },
        };
        const [rows, count] = await Promise.all([
          db.client.findMany({ where, select: { id: true, onboardingState: true }, take: sample }),
          db.client.count({ where }),
        ]);
        return violation(
          'client(s) past number allocation without a number',
          rows.map((r) => `${r.id} (${r.onboardingState})`),
          count,
        );
      },
    },
    {
      name: "owners' phones are not the app's numbers",
      async check(db) {
        const rows = await db.$queryRaw<Array<{ id: string }>>`
          SELECT c."id" FROM "clients" c
           WHERE c."phone" = ${systemNumber} OR EXISTS (SELECT 1 FROM "pool_numbers" p WHERE p."phone_number" = c."phone")
           LIMIT 100`;
        return violation(
          "client(s) whose owner phone is one of the app's numbers",
          rows.slice(0, sample).map((r) => r.id),
          rows.length,
        );
      },
    },
  ];
}
