import { readdirSync, readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { databaseUrl } from './services.js';

/** Makes a Prisma client on a driver adapter: `(adapter) => new PrismaClient({ adapter })`. */
export type PrismaClientFactory<Client> = (adapter: PrismaPg | PrismaPGlite) => Client;

/** A migrated database and a client on it. */
export interface PrismaTestDatabase<Client> {
  readonly prisma: Client;
  readonly kind: 'postgres' | 'pglite';
  /** The schema the tables live in (PostgreSQL only). */
  readonly schema: string | undefined;
  close(): Promise<void>;
}

/**
 * Prisma clients on fresh databases for a package's tests: a schema of its own on the
 * shared PostgreSQL (dropped afterwards) or an in-memory PGlite database, both set up with
 * `setupSql` (the package's migrations, plus test tables).
 */
export function prismaTestDatabases<Client extends { $disconnect(): Promise<void> }>(createClient: PrismaClientFactory<Client>, setupSql: string) {
  const uniqueSchema = (label: string) => `test_${label}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

  const withAdmin = async (run: (client: pg.Client) => Promise<unknown>) => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await run(client);
    } finally {
      await client.end();
    }
  };

  /** Creates and sets up a schema on the shared PostgreSQL. */
  const createSchema = (schema: string) =>
    withAdmin(async (client) => {
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(`SET search_path TO "${schema}"`);
      await client.query(setupSql);
    });

  /** Drops a schema made by createSchema. */
  const dropSchema = (schema: string) => withAdmin((client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));

  /** A client (adapter-pg) whose queries, raw ones included, run in `schema`. */
  const postgresClient = (schema: string, poolSize = 10): Client =>
    createClient(new PrismaPg({ connectionString: databaseUrl, options: `-c search_path="${schema}"`, max: poolSize }, { schema }));

  return {
    uniqueSchema,
    createSchema,
    dropSchema,
    postgresClient,
    /** A set-up schema of its own on the shared PostgreSQL, and a client on it. */
    async openPostgres(label: string): Promise<PrismaTestDatabase<Client>> {
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
    },
    /** A set-up in-memory PGlite database, and a client on it. */
    async openPglite(): Promise<PrismaTestDatabase<Client>> {
      const db = new PGlite();
      await db.exec(setupSql);
      const prisma = createClient(new PrismaPGlite(db));
      return {
        prisma,
        kind: 'pglite',
        schema: undefined,
        close: async () => {
          await prisma.$disconnect();
          await db.close();
        },
      };
    },
  };
}

/** The SQL of every migration in a Prisma migrations folder, in order. */
export function readMigrationsSql(migrationsDir: URL): string {
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => readFileSync(new URL(`${name}/migration.sql`, migrationsDir), 'utf8'))
    .join('\n');
}
