import type { PGlite } from '@electric-sql/pglite';

/**
 * One database session for work Prisma cannot do: running a migration file (several
 * statements in one go) under a session-level advisory lock.
 */
export interface SqlSession {
  /** Runs SQL that may hold several statements (simple query protocol). */
  exec(sql: string): Promise<void>;
  /** Runs one parameterised statement and returns its rows. */
  query<Row>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Ends the session (a no-op for PGlite, whose single session the app keeps). */
  end(): Promise<void>;
}

/** A session on a dedicated node-postgres connection. */
export async function postgresSession(connectionString: string): Promise<SqlSession> {
  // query_timeout: a connection that hangs after connecting (a stalled network) fails instead of
  // holding start-up forever; migrations are small, and the advisory lock wait is bounded by it too.
  // Imported here, not at top level: PGlite apps never load node-postgres.
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5000, query_timeout: 60_000 });
  await client.connect();
  return {
    exec: async (sql) => {
      await client.query(sql);
    },
    query: async <Row>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as Row[],
    end: () => client.end(),
  };
}

/** A session on the embedded PGlite database (one session, shared with Prisma). */
export function pgliteSession(db: PGlite): SqlSession {
  return {
    exec: async (sql) => {
      await db.exec(sql);
    },
    query: async <Row>(sql: string, params: unknown[] = []) => (await db.query<Row>(sql, params)).rows,
    end: async () => {},
  };
}
