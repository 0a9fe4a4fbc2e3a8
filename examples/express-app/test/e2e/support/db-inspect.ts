// Reads the whole database the way an auditor would: every table of the public schema
// (the ones other branches add included), for "nothing was written" and "no row names the
// caller" checks.
import type { Database } from '../../../src/db/database.js';

async function tables(db: Database): Promise<string[]> {
  const rows = await db.prisma.$queryRawUnsafe<Array<{ table_name: string }>>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  return rows.map((r) => r.table_name);
}

/** Row count of every table (the migrations ledger left out). */
export async function rowCounts(db: Database): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of await tables(db)) {
    if (table === '_app_migrations') continue;
    const [row] = await db.prisma.$queryRawUnsafe<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM "${table}"`);
    counts[table] = row?.n ?? 0;
  }
  return counts;
}

/** Every row of every table as JSON text, with the table it came from. */
export async function allRowsAsText(db: Database): Promise<Array<{ table: string; row: string }>> {
  const out: Array<{ table: string; row: string }> = [];
  for (const table of await tables(db)) {
    const rows = await db.prisma.$queryRawUnsafe<Array<{ j: string }>>(`SELECT row_to_json(t)::text AS j FROM "${table}" t`);
    for (const r of rows) out.push({ table, row: r.j });
  }
  return out;
}

/** The rows (any table) whose text contains one of `needles`. */
export async function rowsMentioning(db: Database, needles: readonly string[]): Promise<Array<{ table: string; row: string }>> {
  return (await allRowsAsText(db)).filter(({ row }) => needles.some((n) => row.includes(n)));
}
