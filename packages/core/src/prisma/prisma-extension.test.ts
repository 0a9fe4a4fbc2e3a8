// The Prisma extension on a real PostgreSQL behind a TCP proxy the tests can cut, through
// @prisma/adapter-pg, with the errors Prisma really raises.
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BreakerRegistry, isCircuitOpenError } from '@hardening/circuit-breaker';
import { databaseUrl, requirePostgres, startTcpProxy, type TcpProxy } from '@hardening/test-support';
import { PrismaClient } from '../../test/prisma/generated/client.ts';
import { captureLogger } from '../../test/capture-logger.js';
import { isTransientPrismaError } from '../classifiers/database.js';
import { createSafeCall } from '../safe-call/create-safe-call.js';
import { prismaHardening, setLocalStatementTimeout } from './prisma-extension.js';

const pgUp = await requirePostgres();
const schema = `core_prisma_${process.pid}_${Date.now().toString(36)}`;

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

describe.skipIf(!pgUp)('prismaHardening (real PostgreSQL, adapter-pg)', () => {
  let proxy: TcpProxy;
  const clients: Array<{ $disconnect(): Promise<void> }> = [];

  beforeAll(async () => {
    await admin(async (c) => {
      await c.query(`create schema "${schema}"`);
      await c.query(`create table "${schema}".notes (id serial primary key, text text not null unique)`);
    });
    const url = new URL(databaseUrl);
    proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.$disconnect()));
    await proxy?.close();
    await admin((c) => c.query(`drop schema if exists "${schema}" cascade`));
  });

  afterEach(() => proxy.restore());

  function client(options: Parameters<typeof prismaHardening>[0] = {}) {
    const logger = captureLogger();
    const safeCall = createSafeCall({ registry: new BreakerRegistry(), logger });
    const adapter = new PrismaPg(
      { connectionString: proxy.url(databaseUrl), options: `-c search_path="${schema}"`, connectionTimeoutMillis: 2000, statement_timeout: 5000 },
      { schema },
    );
    const base = new PrismaClient({ adapter });
    clients.push(base);
    const prisma = base.$extends(prismaHardening({ safeCall, logger, initialDelayMs: 150, ...options }));
    return { prisma, logger, safeCall };
  }

  it('does not retry a write whose connection died under it (the outcome is unknown)', async () => {
    const { prisma } = client();
    await prisma.note.count();
    proxy.cut();
    const error = await prisma.note.create({ data: { text: 'maybe written' } }).catch((e: unknown) => e);
    proxy.restore();
    expect((error as { code?: string }).code).toBe('P1017');
  });

  it('retries a read through a short outage', async () => {
    const { prisma, logger } = client();
    await prisma.note.findMany();
    proxy.cut();
    setTimeout(() => proxy.restore(), 60);
    await expect(prisma.note.findMany()).resolves.toEqual([]);
    expect(logger.lines.some((l) => l.msg?.includes('retrying'))).toBe(true);
  });

  it('retries a write that never reached the database, and it is applied once', async () => {
    // A fresh pool, so the write has to connect (refused while cut). A write sent on a
    // pooled connection the cut killed would have an unknown outcome: see the test above.
    proxy.cut();
    const { prisma } = client();
    setTimeout(() => proxy.restore(), 60);
    await prisma.note.create({ data: { text: 'written once' } });
    expect(await prisma.note.count({ where: { text: 'written once' } })).toBe(1);
  });

  it('does not retry inside a transaction, and never counts a unique violation as an outage', async () => {
    const { prisma, safeCall } = client();
    await prisma.note.create({ data: { text: 'dup' } });
    for (let i = 0; i < 6; i++) {
      const error = await prisma.note.create({ data: { text: 'dup' } }).catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe('P2002');
    }
    expect(safeCall.registry.get('database').state).toBe('closed');
    let attempts = 0;
    const error = await prisma
      .$transaction(async (tx) => {
        attempts++;
        await setLocalStatementTimeout(tx, 50);
        await tx.$queryRawUnsafe('select pg_sleep(0.3)');
      })
      .catch((e: unknown) => e);
    expect(attempts).toBe(1);
    expect(JSON.stringify((error as { meta?: unknown }).meta ?? (error as Error).message)).toMatch(/57014|cancel/i);
  });

  it('opens the database breaker after 5 consecutive transient failures, then fails fast', async () => {
    const { prisma, safeCall, logger } = client({ attempts: 1 });
    await prisma.note.count();
    proxy.cut();
    const errors: unknown[] = [];
    for (let i = 0; i < 6; i++) errors.push(await prisma.note.count().catch((e: unknown) => e));
    proxy.restore();
    expect(errors.slice(0, 5).every((e) => isTransientPrismaError(e))).toBe(true);
    expect(isCircuitOpenError(errors[5])).toBe(true);
    expect(safeCall.registry.get('database').state).toBe('open');
    expect(logger.lines.some((l) => l.level === 'warn' && l.msg === 'circuit "database" open: calls refused')).toBe(true);
  });

  it('logs slow queries with the model and operation, never the arguments', async () => {
    const { prisma, logger } = client({ slowQueryMs: 100 });
    await prisma.$queryRawUnsafe(`select 'secret-arg' as v from pg_sleep(0.2)`);
    const line = logger.lines.find((l) => l.msg === 'slow database query');
    expect(line?.fields).toMatchObject({ query: '$queryRawUnsafe', thresholdMs: 100 });
    expect(JSON.stringify(line)).not.toContain('secret-arg');
  });

  it('classifies what adapter-pg raises: unreachable and closed connections are transient', async () => {
    const { prisma } = client({ attempts: 1 });
    await prisma.note.count();
    proxy.cut();
    const raw = await prisma.$queryRawUnsafe('select 1').catch((e: unknown) => e);
    const model = await prisma.note.findMany().catch((e: unknown) => e);
    proxy.restore();
    expect((raw as { code?: string }).code).toBe('P2010'); // raw queries report the adapter's kind, not P1001/P1017
    expect(isTransientPrismaError(raw)).toBe(true);
    expect(isTransientPrismaError(model)).toBe(true);
    const missing = await prisma.$queryRawUnsafe('select * from no_such_table').catch((e: unknown) => e);
    expect(isTransientPrismaError(missing)).toBe(false);
  });
});
