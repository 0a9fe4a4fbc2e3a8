import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
    openPostgres: async (label: string): Promise<PrismaTestDatabase<Client>> => {
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
    /**
     * A set-up in-memory PGlite database, and a client on it. It starts from a dump of a
     * database on which `setupSql` already ran (see {@link pgliteFromTemplate}): the same
     * tables, without paying initdb and the migrations again.
     */
    openPglite: async (): Promise<PrismaTestDatabase<Client>> => {
      const db = await pgliteFromTemplate(setupSql);
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

// Where the set-up PGlite dumps are kept between test files and runs: a cache folder under this
// package's node_modules (the find-cache-dir convention the app's template uses too), so a
// clean clone or a reinstall starts without them.
const templateCacheDir = fileURLToPath(new URL('../node_modules/.cache/pglite-setup-templates/', import.meta.url));
const templates = new Map<string, Promise<{ readonly dump: Blob; readonly fromDisk: boolean }>>();

/**
 * A new in-memory PGlite database on which `setupSql` has run, started from a dump of one
 * (`PGlite.create({ loadDataDir })`) rather than made from scratch.
 *
 * Why: `new PGlite()` runs initdb inside WebAssembly and the package's migrations then run on
 * it: 3.5-6 s a database on a loaded 2-core machine, against about 1.4 s to load a dump. The
 * dump is named by what it must match (the PGlite build, whose resolved path carries its
 * version in pnpm's store, and the whole of `setupSql`), so other SQL or another PGlite makes
 * another file and a test never starts from tables its migrations do not create. It is made
 * once per machine (kept in `node_modules/.cache`) and read once per process; a kept dump
 * that does not load (truncated, say) is deleted and made again.
 *
 * @param setupSql - the SQL the database is set up with (migrations, test tables).
 * @param cacheDir - where dumps are kept (tests of this helper pass their own).
 * @returns the open database; the caller closes it.
 * @example
 * const db = await pgliteFromTemplate(migrationSql);
 * await db.query('SELECT count(*) FROM "IdempotencyRecord"');
 * await db.close();
 */
export async function pgliteFromTemplate(setupSql: string, cacheDir: string = templateCacheDir): Promise<PGlite> {
  const hash = createHash('sha256').update(realpathSync(fileURLToPath(import.meta.resolve('@electric-sql/pglite'))));
  const path = join(cacheDir, `${hash.update('\0').update(setupSql).digest('hex').slice(0, 16)}.tar`);
  const template = () => {
    let found = templates.get(path);
    if (found === undefined) {
      found = readOrMakeTemplate(path, setupSql);
      templates.set(path, found);
      found.catch(() => templates.delete(path));
    }
    return found;
  };
  const { dump, fromDisk } = await template();
  try {
    return await PGlite.create({ loadDataDir: dump });
  } catch (error) {
    if (!fromDisk) throw error;
    templates.delete(path);
    rmSync(path, { force: true });
    return PGlite.create({ loadDataDir: (await template()).dump });
  }
}

async function readOrMakeTemplate(path: string, setupSql: string): Promise<{ dump: Blob; fromDisk: boolean }> {
  try {
    return { dump: new Blob([readFileSync(path)]), fromDisk: true };
  } catch {
    // Not made yet on this machine.
  }
  const db = new PGlite();
  try {
    await db.exec(setupSql);
    const dump = await db.dumpDataDir('none');
    mkdirSync(join(path, '..'), { recursive: true });
    // Written aside, then renamed: a test file starting alongside never reads half a file.
    const partial = `${path}.${process.pid}.partial`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, path);
    return { dump, fromDisk: false };
  } finally {
    await db.close();
  }
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
