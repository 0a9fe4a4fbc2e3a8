import type { PGlite } from '@electric-sql/pglite';
import type { Pool } from 'pg';
import type { Statement } from './named-statement.js';

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

  /**
   * Runs the statement `build` returns, built once a connection is held and the statement
   * is about to leave: for a decision that must be taken as late as possible. The SMS hot
   * path claims the TwiML answer here (domain/reply-channel.ts): a claim makes the webhook
   * wait for the statement, so it is not taken while the statement still waits for a
   * connection (a pool starved by a hung database would hold the webhook past Twilio's
   * deadline), only for the round trip itself.
   *
   * @throws What the database throws, with its SQLSTATE in `code`.
   */
  runBuilt<Row>(build: () => Statement): Promise<Row[]>;
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
    async runBuilt<Row>(build: () => Statement) {
      const client = await pool.connect();
      // As pool.query does: while the client is checked out the pool does not listen to it,
      // so its connection's error (a reset, a server gone) is this call's failure here, not
      // an uncaught 'error' event that would end the process; and a client whose query
      // failed leaves the pool (its connection may be the reason).
      return new Promise<Row[]>((resolve, reject) => {
        let released = false;
        const release = (error?: Error): boolean => {
          if (released) return false;
          released = true;
          client.removeListener('error', onError);
          client.release(error);
          return true;
        };
        const onError = (error: Error) => {
          if (release(error)) reject(error);
        };
        client.once('error', onError);
        let statement: Statement;
        try {
          statement = build();
        } catch (error) {
          release();
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        client.query({ name: statement.name, text: statement.text, values: statement.values }).then(
          (result) => {
            if (release()) resolve(result.rows as Row[]);
          },
          (error: Error) => {
            if (release(error)) reject(error);
          },
        );
      });
    },
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
    // One embedded session, no connection to wait for, and no network to hang on.
    runBuilt: async <Row>(build: () => Statement) => {
      const statement = build();
      return (await db.query<Row>(statement.text, statement.values)).rows;
    },
  };
}
