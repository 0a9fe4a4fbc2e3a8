/** Reads a property of an unknown value without throwing. */
export function field(value: unknown, key: string): unknown {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return undefined;
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/**
 * The error and its `cause` chain (bounded), so classifiers see through wrappers such as
 * fetch's `TypeError('fetch failed', { cause })`, Prisma's driver adapter errors, or the
 * Slack SDK's request errors (which keep the wrapped error in `original`), and Prisma's
 * driver adapter errors (`meta.driverAdapterError.cause` holds `kind` and `originalCode`).
 */
export function* causeChain(error: unknown, depth = 5): Generator<unknown> {
  let current = error;
  for (let i = 0; i < depth && current !== undefined && current !== null; i++) {
    yield current;
    current = field(current, 'cause') ?? field(current, 'original') ?? field(field(current, 'meta'), 'driverAdapterError');
  }
}
