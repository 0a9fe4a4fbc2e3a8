// Prisma clients on a fresh database for the tests: real PostgreSQL (a schema of its own
// per run, dropped afterwards) and in-memory PGlite, both migrated with the SQL migration
// this package ships.
import { readdirSync, readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { databaseUrl } from '@hardening/test-support';
import { PrismaClient } from '../generated/client/client.ts';

const migrationsDir = new URL('../../prisma/migrations/', import.meta.url);

/** Every shipped migration, in order. */
export const migrationSql = readdirSync(migrationsDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort()
  .map((name) => readFileSync(new URL(`${name}/migration.sql`, migrationsDir), 'utf8'))
  .join('\n');

export interface TestDatabase {
  readonly prisma: PrismaClient;
  readonly kind: 'postgres' | 'pglite';
  /** The schema the tables live in (PostgreSQL only). */
  readonly schema: string | undefined;
  close(): Promise<void>;
}

/** A schema name unique to this run. */
export function uniqueSchema(label: string): string {
  return `test_${label}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Creates (and migrates) a schema on the shared PostgreSQL. */
export async function createSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA "${schema}"`);
    await client.query(`SET search_path TO "${schema}"`);
    await client.query(migrationSql);
  } finally {
    await client.end();
  }
}

/** Drops a schema created by {@link createSchema}. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** A Prisma client (adapter-pg) whose queries, raw ones included, run in `schema`. */
export function postgresClient(schema: string, poolSize = 10): PrismaClient {
  const adapter = new PrismaPg({ connectionString: databaseUrl, options: `-c search_path="${schema}"`, max: poolSize }, { schema });
  return new PrismaClient({ adapter });
}

/** A migrated schema of its own on the shared PostgreSQL, and a client on it. */
export async function openPostgres(label: string): Promise<TestDatabase> {
  const schema = uniqueSchema(label);
  await createSchema(schema);
  const prisma = postgresClient(schema);
  return {
    prisma,
    kind: 'postgres',
    schema,
    close: async () => {
      await prisma.$disconnect();
      await dropSchema(schema);
    },
  };
}

/** A migrated in-memory PGlite database, and a client on it. */
export async function openPglite(): Promise<TestDatabase> {
  const db = new PGlite();
  await db.exec(migrationSql);
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
  return {
    prisma,
    kind: 'pglite',
    schema: undefined,
    close: async () => {
      await prisma.$disconnect();
      await db.close();
    },
  };
}
