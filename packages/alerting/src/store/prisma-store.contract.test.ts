import { requirePostgres } from '@hardening/test-support';
import { describeAlertStoreContract } from '../../test/store-contract.js';
import { openPglite, openPostgres } from '../../test/support/databases.js';
import { createPrismaAlertStore } from './prisma-store.js';

const postgresUp = await requirePostgres();

describeAlertStoreContract(
  'PostgreSQL through Prisma (adapter-pg)',
  async () => {
    const db = await openPostgres('alert_store');
    return { store: createPrismaAlertStore({ prisma: db.prisma }), close: () => db.close() };
  },
  { skip: !postgresUp },
);

describeAlertStoreContract('PGlite through Prisma (pglite-prisma-adapter)', async () => {
  const db = await openPglite();
  return { store: createPrismaAlertStore({ prisma: db.prisma }), close: () => db.close() };
});
