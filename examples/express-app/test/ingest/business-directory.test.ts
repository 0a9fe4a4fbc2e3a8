// The business directory's reads across a database outage, on real PostgreSQL behind a TCP
// proxy the test cuts. The directory's clock is injected; the database's is real.
import { createSafeCall, silentLogger, BreakerRegistry } from '@hardening/core';
import { createTestDatabase, requirePostgres, startTcpProxy, type TcpProxy } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { BusinessDirectory } from '../../src/ingest/business-directory.js';

const postgresUp = await requirePostgres();

describe.skipIf(!postgresUp)('BusinessDirectory across a database outage (PostgreSQL behind a proxy)', () => {
  let direct: Database;
  let proxied: Database;
  let proxy: TcpProxy;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const created = await createTestDatabase('directory');
    drop = created.drop;
    const target = new URL(created.url);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const open = (url: string) =>
      openDatabase({ databaseUrl: url, logger: silentLogger, safeCall: createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger }) });
    direct = await open(created.url);
    proxied = await open(proxy.url(created.url));
  }, 60_000);
  afterAll(async () => {
    proxy?.restore();
    await proxied?.close();
    await direct?.close();
    await proxy?.close();
    await drop?.();
  });

  let numbers = 0;
  /** A business that signs up on another instance: a client, and a pool number assigned to it now. */
  const signUp = async (businessName: string) => {
    numbers += 1;
    const suffix = String(numbers).padStart(4, '0');
    const client = await direct.prisma.client.create({ data: { phone: `+1555010${suffix}`, businessName, onboardingState: 'COMPLETE' } });
    const phoneNumber = `+1555020${suffix}`;
    await direct.prisma.poolNumber.create({ data: { phoneNumber, status: 'ASSIGNED', role: 'CLIENT', clientId: client.id, assignedAt: new Date() } });
    return phoneNumber;
  };

  it('a change read that failed leaves no gap: the next one covers the whole outage', async () => {
    let now = Date.now();
    const directory = new BusinessDirectory(proxied, silentLogger, { now: () => now, changesEveryMs: 2000 });
    await directory.refreshIfStale(); // the full load
    const number = await signUp('Outage Oil');
    // The outage lasts long past the change reads' overlap (60 s): the failed read is at +2 min.
    now += 120_000;
    proxy.cut();
    try {
      await directory.refreshIfStale();
    } finally {
      proxy.restore();
    }
    expect(directory.lookup(number)).toBeUndefined();
    now += 2000;
    await directory.refreshIfStale();
    expect(directory.lookup(number)).toMatchObject({ businessName: 'Outage Oil' });
  }, 60_000);

  it('a first full load that failed is tried again at the next read, not 30 s later', async () => {
    const number = await signUp('First Load Flues');
    let now = Date.now();
    const directory = new BusinessDirectory(proxied, silentLogger, { now: () => now, changesEveryMs: 2000 });
    proxy.cut();
    try {
      await directory.refreshIfStale();
    } finally {
      proxy.restore();
    }
    now += 2000;
    await directory.refreshIfStale();
    expect(directory.lookup(number)).toMatchObject({ businessName: 'First Load Flues' });
  }, 60_000);

  it('reads at most once every changesEveryMs, failed or not', async () => {
    let now = Date.now();
    const directory = new BusinessDirectory(proxied, silentLogger, { now: () => now, changesEveryMs: 2000 });
    await directory.refreshIfStale();
    const number = await signUp('Spaced Sprinklers');
    now += 1999;
    await directory.refreshIfStale();
    expect(directory.lookup(number)).toBeUndefined();
    now += 1;
    await directory.refreshIfStale();
    expect(directory.lookup(number)).toMatchObject({ businessName: 'Spaced Sprinklers' });
  }, 60_000);
});
