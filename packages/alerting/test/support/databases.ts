// Prisma clients on a fresh database for the tests: real PostgreSQL (a schema of its own
// per run, dropped afterwards) and in-memory PGlite, both migrated with the SQL migration
// this package ships.
import { prismaTestDatabases, readMigrationsSql, type PrismaTestDatabase } from '@hardening/test-support';
import { PrismaClient } from '../generated/client/client.ts';

/** Every shipped migration, in order. */
export const migrationSql = readMigrationsSql(new URL('../../prisma/migrations/', import.meta.url));

export type TestDatabase = PrismaTestDatabase<PrismaClient>;

export const { uniqueSchema, createSchema, dropSchema, postgresClient, openPostgres, openPglite } = prismaTestDatabases(
  (adapter) => new PrismaClient({ adapter }),
  migrationSql,
);
