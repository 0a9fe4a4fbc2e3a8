// Resolving stuck clients as plain functions over the database (no HTTP), on both backends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePostgres } from '@hardening/test-support';
import type { OnboardingState } from '../../src/db/generated/client.js';
import type { Database } from '../../src/db/database.js';
import { addNumbers } from '../../src/domain/number-pool.js';
import { findStuckClients } from '../../src/domain/stuck-clients.js';
import { resolveStuckClient } from '../../src/domain/stuck-resolution.js';
import { freshDatabase, type Backend } from '../support/databases.js';
import { systemNumber } from '../support/sms.js';

const pgUp = await requirePostgres();
const backends: Backend[] = pgUp ? ['pglite', 'postgres'] : ['pglite'];
const hour = 3_600_000;

describe.each(backends)('resolving stuck clients on %s', (backend) => {
  let db: Database;
  let seq = 0;
  const client = (state: OnboardingState, agoMs: number) =>
    db.prisma.client.create({
      data: {
        phone: `+1555600${String(++seq).padStart(4, '0')}`,
        onboardingState: state,
        stateEnteredAt: new Date(Date.now() - agoMs),
        stuckDetectedAt: new Date(),
      },
    });

  beforeAll(async () => {
    db = await freshDatabase(backend, 'resolution');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('each action moves the client on, clears stuckDetectedAt, and it is no longer stuck', async () => {
    const payment = await client('S5_CONFIRM_LIVE', 10 * hour);
    const testCall = await client('S9_TEST_CALL', 30 * hour);
    const silent = await client('S2_BUSINESS_NAME', 48 * hour);
    const ids = [payment.id, testCall.id, silent.id];
    expect((await findStuckClients(db.prisma)).filter((s) => ids.includes(s.id))).toHaveLength(3);

    const results = [
      await resolveStuckClient(db.prisma, payment.id, 'activate_payment', systemNumber),
      await resolveStuckClient(db.prisma, testCall.id, 'complete_test_call', systemNumber),
      await resolveStuckClient(db.prisma, silent.id, 'acknowledge', systemNumber),
    ];
    expect(results.map((r) => (r.kind === 'resolved' ? [r.from, r.client.onboardingState, r.client.stuckDetectedAt] : r.kind))).toEqual([
      ['S5_CONFIRM_LIVE', 'S9_TEST_CALL', null],
      ['S9_TEST_CALL', 'COMPLETE', null],
      ['S2_BUSINESS_NAME', 'S2_BUSINESS_NAME', null],
    ]);
    expect((await findStuckClients(db.prisma)).filter((s) => ids.includes(s.id))).toEqual([]);
    const texts = await db.prisma.outboundMessage.findMany({
      where: { toPhone: { in: [payment.phone, testCall.phone, silent.phone] } },
      orderBy: { createdAt: 'asc' },
    });
    expect(texts.map((t) => [t.toPhone, t.purpose])).toEqual([
      [payment.phone, 'payment'],
      [testCall.phone, 'live'],
    ]);
  });

  it('allocate_number takes a pool number, or reports the empty pool without changing anything', async () => {
    const waiting = await client('S3_SERVICE_AREA', hour);
    const empty = await resolveStuckClient(db.prisma, waiting.id, 'allocate_number', systemNumber);
    expect(empty).toMatchObject({ kind: 'conflict', state: 'S3_SERVICE_AREA' });
    expect((await db.prisma.client.findUniqueOrThrow({ where: { id: waiting.id } })).onboardingState).toBe('S3_SERVICE_AREA');
    await addNumbers(db.prisma, ['+15556009999']);
    const done = await resolveStuckClient(db.prisma, waiting.id, 'allocate_number', systemNumber);
    expect(done).toMatchObject({ kind: 'resolved', client: { onboardingState: 'S4_NUMBER_ALLOCATED' } });
    expect((await db.prisma.poolNumber.findUniqueOrThrow({ where: { phoneNumber: '+15556009999' } })).clientId).toBe(waiting.id);
  });

  it('refuses an action outside its states, and unknown clients', async () => {
    const c = await client('S4_NUMBER_ALLOCATED', hour);
    expect(await resolveStuckClient(db.prisma, c.id, 'activate_payment', systemNumber)).toMatchObject({ kind: 'conflict', state: 'S4_NUMBER_ALLOCATED' });
    expect(await resolveStuckClient(db.prisma, '00000000-0000-4000-8000-000000000000', 'acknowledge', systemNumber)).toEqual({ kind: 'not_found' });
  });

  it('two operators resolving the same client at once: one wins, the other sees the new state', async () => {
    const c = await client('S5_CONFIRM_LIVE', 5 * hour);
    const outcomes = await Promise.all([1, 2].map(() => resolveStuckClient(db.prisma, c.id, 'activate_payment', systemNumber)));
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['conflict', 'resolved']);
    expect(await db.prisma.outboundMessage.count({ where: { toPhone: c.phone } })).toBe(1);
  });
});
