import { z } from 'zod';

/** A position in a list ordered newest first: the last row's creation time and id. */
export interface Cursor {
  readonly createdAt: Date;
  readonly id: string;
}

/** Encodes the position after `row` (opaque to clients). */
export function encodeCursor(row: Cursor): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`, 'utf8').toString('base64url');
}

const cursor = z
  .string()
  .max(200)
  .transform((value, ctx) => {
    const [at, id, extra] = Buffer.from(value, 'base64url').toString('utf8').split('|');
    const createdAt = new Date(at ?? '');
    if (extra !== undefined || id === undefined || id === '' || Number.isNaN(createdAt.getTime())) {
      ctx.addIssue({ code: 'custom', message: 'is not a cursor this API returned' });
      return z.NEVER;
    }
    return { createdAt, id } satisfies Cursor;
  });

/** `limit` (1-200, default 50) and `cursor` (from the previous page's `nextCursor`). */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: cursor.optional(),
});

/** The Prisma `where` for rows after `at` in newest-first order (keyset pagination: stable under inserts). */
export function afterCursor(at: Cursor | undefined): object {
  if (at === undefined) return {};
  return { OR: [{ createdAt: { lt: at.createdAt } }, { createdAt: at.createdAt, id: { lt: at.id } }] };
}

/** Newest first, ties by id: the order {@link afterCursor} pages through. */
export const newestFirst = [{ createdAt: 'desc' as const }, { id: 'desc' as const }];

/**
 * One page from rows fetched with `take: limit + 1`.
 *
 * @returns The page's rows and the cursor of the next page (null on the last).
 */
export function pageOf<T extends Cursor>(rows: readonly T[], limit: number): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last) : null };
}
