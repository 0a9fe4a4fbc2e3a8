import { requirePostgres } from '@hardening/test-support';
import { openPglite, openPostgres, type TestDatabase } from '../test/support/databases.js';
import { describeStoreContract } from '../test/store-contract.js';
import { createPrismaStore } from './prisma-store.js';

const postgresUp = await requirePostgres();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function harness(open: () => Promise<TestDatabase>) {
  return async () => {
    const db = await open();
    return { store: createPrismaStore({ prisma: db.prisma }), shortMs: 300, elapse: sleep, close: () => db.close() };
  };
}

describeStoreContract(
  'PostgreSQL via Prisma + @prisma/adapter-pg',
  harness(() => openPostgres('contract')),
  { skip: !postgresUp },
);
describeStoreContract('PGlite via Prisma + pglite-prisma-adapter', harness(openPglite));
