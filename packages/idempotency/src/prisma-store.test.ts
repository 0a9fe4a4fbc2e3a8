// PostgreSQL-specific behaviour: the store inside the caller's transaction, and the model
// snippet matching the migration (drift check on a freshly migrated database).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@hardening/core';
import { requirePostgres } from '@hardening/test-support';
import { openPglite, openPostgres, type TestDatabase } from '../test/support/databases.js';
import { createIdempotencyGuard } from './guard.js';
import { createPrismaStore } from './prisma-store.js';
import { isIdempotencyInProgressError, type IdempotencyInProgressError } from './errors/idempotency-in-progress-error.js';
import { isIdempotencyStoreError } from './errors/idempotency-store-error.js';

const postgresUp = await requirePostgres();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

for (const [name, skip, open] of [
  ['PostgreSQL (adapter-pg)', !postgresUp, () => openPostgres('tx')],
  ['PGlite', false, openPglite],
] as const) {
  describe.skipIf(skip)(`Prisma store on ${name}`, () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await open();
    });
    afterAll(async () => {
      await db?.close();
    });

    it('the shipped model snippet reads what the store wrote (schema and migration in step)', async () => {
      const store = createPrismaStore({ prisma: db.prisma });
      const guard = createIdempotencyGuard({ store, logger: silentLogger, retentionMs: 3_600_000 });
      await guard.run('evt_model', () => Promise.resolve({ ok: true }), { payload: { a: 1 } });
      const record = await db.prisma.idempotencyRecord.findUniqueOrThrow({ where: { key: 'evt_model' } });
      expect(record).toMatchObject({ status: 'COMPLETED', result: '{"v":{"ok":true}}', fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(record.token).toEqual(expect.any(String));
      expect(record.createdAt).toBeInstanceOf(Date);
      expect(record.completedAt).toBeInstanceOf(Date);
      expect(record.expiresAt.getTime() - record.completedAt!.getTime()).toBeGreaterThan(3_500_000);
      // And the other way round: a row written through the model is what the store reads.
      await db.prisma.idempotencyRecord.create({
        data: { key: 'evt_seeded', status: 'COMPLETED', token: 't', fingerprint: '', result: '{"v":"seeded"}', expiresAt: new Date(Date.now() + 60_000) },
      });
      expect(await guard.run('evt_seeded', () => Promise.resolve('ran'))).toBe('seeded');
    });

    it('fn throws inside the transaction: business rows and the claim roll back together; the retry runs once', async () => {
      const store = createPrismaStore({ prisma: db.prisma });
      const attempt = (fail: boolean) =>
        db.prisma.$transaction(async (tx) => {
          const guard = createIdempotencyGuard({ store: store.withTransaction(tx), logger: silentLogger });
          return guard.run('evt_tx', async () => {
            await tx.testOrder.create({ data: { eventId: 'evt_tx', amount: 500 } });
            if (fail) throw new Error('payment provider 502');
            return 'fulfilled';
          });
        });
      await expect(attempt(true)).rejects.toThrow('payment provider 502');
      expect(await db.prisma.testOrder.count({ where: { eventId: 'evt_tx' } })).toBe(0);
      expect(await db.prisma.idempotencyRecord.count({ where: { key: 'evt_tx' } })).toBe(0);
      expect(await attempt(false)).toBe('fulfilled');
      expect(await attempt(false)).toBe('fulfilled');
      expect(await db.prisma.testOrder.count({ where: { eventId: 'evt_tx' } })).toBe(1);
      expect((await db.prisma.idempotencyRecord.findUniqueOrThrow({ where: { key: 'evt_tx' } })).status).toBe('COMPLETED');
    });

    it('a failed query inside fn aborts the transaction; release still ends cleanly and nothing is half-written', async () => {
      const store = createPrismaStore({ prisma: db.prisma });
      const failing = db.prisma.$transaction(async (tx) => {
        const guard = createIdempotencyGuard({ store: store.withTransaction(tx), logger: silentLogger });
        return guard.run('evt_sql_error', async () => {
          await tx.testOrder.create({ data: { eventId: 'evt_sql_error', amount: 1 } });
          await tx.$executeRawUnsafe('INSERT INTO "test_orders" ("event_id", "amount") VALUES (NULL, 1)');
        });
      });
      await expect(failing).rejects.toThrow();
      expect(await db.prisma.testOrder.count({ where: { eventId: 'evt_sql_error' } })).toBe(0);
      expect(await db.prisma.idempotencyRecord.count({ where: { key: 'evt_sql_error' } })).toBe(0);
    });
  });
}

/** A promise the first transaction resolves once it holds the key (its fn started). */
function startedSignal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe.skipIf(!postgresUp)('Prisma store inside concurrent transactions (PostgreSQL)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openPostgres('txlock');
  });
  afterAll(async () => {
    await db?.close();
  });

  function processInTransaction(key: string, options: { holdMs: number; fail?: boolean; lockTimeoutMs?: number; label: string; onStarted?: () => void }) {
    const store = createPrismaStore({ prisma: db.prisma, lockTimeoutMs: options.lockTimeoutMs ?? 5000 });
    return db.prisma.$transaction(
      async (tx) => {
        const guard = createIdempotencyGuard({ store: store.withTransaction(tx), logger: silentLogger });
        return guard.execute(key, async () => {
          options.onStarted?.();
          await tx.testOrder.create({ data: { eventId: key, amount: 1 } });
          await sleep(options.holdMs);
          if (options.fail === true) throw new Error(`${options.label} failed`);
          return options.label;
        });
      },
      { timeout: 15_000 },
    );
  }

  it('a concurrent duplicate waits for the first transaction and replays its committed result', async () => {
    const { promise: started, resolve: onStarted } = startedSignal();
    const first = processInTransaction('evt_a', { holdMs: 400, label: 'first', onStarted });
    await started;
    const second = processInTransaction('evt_a', { holdMs: 0, label: 'second' });
    expect(await first).toEqual({ status: 'executed', value: 'first', stored: true });
    expect(await second).toEqual({ status: 'replayed', value: 'first', stored: true });
    expect(await db.prisma.testOrder.count({ where: { eventId: 'evt_a' } })).toBe(1);
  });

  it('when the first transaction rolls back, the waiting duplicate runs it instead', async () => {
    const { promise: started, resolve: onStarted } = startedSignal();
    const first = processInTransaction('evt_b', { holdMs: 400, fail: true, label: 'first', onStarted });
    await started;
    const second = processInTransaction('evt_b', { holdMs: 0, label: 'second' });
    await expect(first).rejects.toThrow('first failed');
    expect(await second).toEqual({ status: 'executed', value: 'second', stored: true });
    expect(await db.prisma.testOrder.count({ where: { eventId: 'evt_b' } })).toBe(1);
  });

  it('the wait is bounded by lockTimeoutMs, then IdempotencyInProgressError (and the duplicate rolls back)', async () => {
    const { promise: started, resolve: onStarted } = startedSignal();
    let firstSettled = false;
    const first = processInTransaction('evt_c', { holdMs: 3000, label: 'first', onStarted }).finally(() => (firstSettled = true));
    await started;
    const error = await processInTransaction('evt_c', { holdMs: 0, label: 'second', lockTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(isIdempotencyInProgressError(error)).toBe(true);
    expect((error as IdempotencyInProgressError).waitedMs).toBe(300);
    // It gave up on the lock while the first transaction still held it.
    expect(firstSettled).toBe(false);
    expect(await first).toMatchObject({ status: 'executed', value: 'first' });
    expect(await db.prisma.testOrder.count({ where: { eventId: 'evt_c' } })).toBe(1);
  });

  it('restores the transaction lock_timeout after the claim', async () => {
    const store = createPrismaStore({ prisma: db.prisma, lockTimeoutMs: 1234 });
    const setting = await db.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = '7s'`);
      await createIdempotencyGuard({ store: store.withTransaction(tx), logger: silentLogger }).run('evt_d', () => Promise.resolve(1));
      return tx.$queryRawUnsafe<{ lock_timeout: string }[]>('SHOW lock_timeout');
    });
    expect(setting[0]?.lock_timeout).toBe('7s');
  });

  it('validates its options', () => {
    expect(() => createPrismaStore({ prisma: db.prisma, table: 'bad name; DROP TABLE x' })).toThrow(
      "Expected `table` to be a table name like 'idempotency_records' or 'schema.table'",
    );
    expect(() => createPrismaStore({ prisma: {} as never })).toThrow('Expected `prisma` to be a PrismaClient');
    expect(() => createPrismaStore({ prisma: db.prisma, lockTimeoutMs: 0 })).toThrow('Expected `lockTimeoutMs` to be a positive integer, got 0.');
    expect(createPrismaStore({ prisma: db.prisma, table: 'billing.idempotency_records' }).table).toBe('"billing"."idempotency_records"');
  });
});

describe('Prisma store: a complete that fails inside a transaction', () => {
  it('is not retried for the whole lease: the transaction fails at once and rolls back', async () => {
    const db = await openPglite();
    try {
      const store = createPrismaStore({ prisma: db.prisma });
      const started = Date.now();
      const attempt = db.prisma.$transaction(async (tx) => {
        const guard = createIdempotencyGuard({ store: store.withTransaction(tx), logger: silentLogger, leaseMs: 30_000 });
        return guard.run('evt_complete_fails', async () => {
          await tx.testOrder.create({ data: { eventId: 'evt_complete_fails', amount: 1 } });
          // The idempotency table disappears under the run (as if a migration went wrong).
          await tx.$executeRawUnsafe('ALTER TABLE "idempotency_records" RENAME TO "gone"');
          return 'done';
        });
      });
      await expect(attempt).rejects.toSatisfy((error: unknown) => isIdempotencyStoreError(error) && error.operation === 'complete');
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await db.prisma.testOrder.count()).toBe(0);
    } finally {
      await db.close();
    }
  });
});
