import type { PGlite } from '@electric-sql/pglite';
import type { Pool } from 'pg';
import type { Statement } from './inbound-statements.js';

/**
 * Runs the hand-written statements of the SMS hot path (inbound-statements.ts) on either
 * backend, so the hot path has one code path: a named prepared statement on the app's
 * `pg` pool (the pool Prisma uses too), or the same text on the embedded PGlite.
 */
export interface StatementRunner {
  /**
   * Runs one statement (autocommit: it is atomic on its own) and returns its rows.
   *
   * @throws What the database throws, with its SQLSTATE in `code`.
   */
  run<Row>(statement: Statement): Promise<Row[]>;
}

/**
 * Statements on a node-postgres pool, each prepared once per connection under its name
 * (parse and plan once; then one Bind/Execute/Sync round trip per call).
 *
 * @example
 * ```ts
 * const sql = poolRunner(new pg.Pool({ connectionString }));
 * const rows = await sql.run<{ one: number }>({ name: 'one', text: 'SELECT 1 AS one', values: [] });
 * ```
 */
export function poolRunner(pool: Pool): StatementRunner {
  return {
    run: async <Row>(statement: Statement) => (await pool.query({ name: statement.name, text: statement.text, values: statement.values })).rows as Row[],
  };
}

/**
 * Statements on the embedded PGlite database. PGlite runs one session: its `query` waits
 * while a transaction (Prisma's, through the adapter) holds it, so a statement here never
 * runs inside someone else's transaction.
 *
 * @example
 * ```ts
 * const sql = pgliteRunner(await PGlite.create('memory://'));
 * ```
 */
export function pgliteRunner(db: PGlite): StatementRunner {
  return {
    run: async <Row>(statement: Statement) => (await db.query<Row>(statement.text, statement.values)).rows,
  };
}
