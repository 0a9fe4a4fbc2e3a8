// Prisma clients on a fresh database for the tests: real PostgreSQL (a schema of its own
// per run, dropped afterwards) and in-memory PGlite, both migrated with the SQL migration
// this package ships, plus the test schema's business table.
import { prismaTestDatabases, readMigrationsSql, type PrismaTestDatabase } from '@hardening/test-support';
import { PrismaClient } from '../generated/client/client.ts';

/** Every shipped migration, in order. */
export const migrationSql = readMigrationsSql(new URL('../../prisma/migrations/', import.meta.url));

/** The test schema's business table (see scripts/generate-test-client.mjs). */
const testTablesSql = `CREATE TABLE "test_orders" ("id" SERIAL PRIMARY KEY, "event_id" TEXT NOT NULL, "amount" INTEGER NOT NULL);`;

export type TestDatabase = PrismaTestDatabase<PrismaClient>;

export const { uniqueSchema, createSchema, dropSchema, postgresClient, openPostgres, openPglite } = prismaTestDatabases(
  (adapter) => new PrismaClient({ adapter }),
  `${migrationSql}\n${testTablesSql}`,
);
