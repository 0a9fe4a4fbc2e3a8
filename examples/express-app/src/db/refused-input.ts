import { scrubText } from '@hardening/core';

/**
 * Prisma codes meaning "this value cannot be stored", whatever the database's health:
 * too long (P2000), wrong type or invalid value (P2005-P2007), a null in a required
 * column (P2011, P2012), input errors (P2019, P2020, P2023).
 */
const refusedPrismaCodes = new Set(['P2000', 'P2005', 'P2006', 'P2007', 'P2011', 'P2012', 'P2019', 'P2020', 'P2023']);
/** Driver adapter error kinds with the same meaning. */
const refusedAdapterKinds = new Set(['InvalidInputValue', 'LengthMismatch', 'ValueOutOfRange', 'NullConstraintViolation', 'ForeignKeyConstraintViolation']);

/** A value refused at the boundary or by the database; carries no field value. */
export class RefusedInputError extends Error {
  override readonly name = 'RefusedInputError';
}

interface Fields {
  name?: unknown;
  code?: unknown;
  kind?: unknown;
  originalCode?: unknown;
  meta?: { driverAdapterError?: { cause?: { originalCode?: unknown; kind?: unknown; originalMessage?: unknown } } };
  cause?: unknown;
  message?: unknown;
}

/** A field of a driver error as text, when it is one (never "[object Object]"). */
function scalar(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

function* chain(error: unknown): Generator<Fields> {
  let link: unknown = error;
  for (let depth = 0; depth < 8 && typeof link === 'object' && link !== null; depth++) {
    yield link;
    const adapter = (link as Fields).meta?.driverAdapterError?.cause;
    if (adapter !== undefined) yield adapter;
    link = (link as Fields).cause;
  }
}

/**
 * True when `error` says the input itself cannot be stored (a NUL byte, invalid JSON, a
 * wrong type, a constraint), not that the database is unavailable: PostgreSQL's data
 * exceptions (SQLSTATE class 22) and integrity violations (class 23, a unique violation
 * excepted: a race that a retry resolves), Prisma's validation errors and the matching
 * P20xx codes. Such an input must be answered or set aside, never spooled and retried as
 * if the database were down.
 *
 * @example
 * ```ts
 * if (isRefusedInput(error)) return reject(); // else: spool and raise DATABASE_UNAVAILABLE
 * ```
 */
export function isRefusedInput(error: unknown): boolean {
  for (const link of chain(error)) {
    if (link.name === 'PrismaClientValidationError' || link.name === 'RefusedInputError') return true;
    if (typeof link.code === 'string' && refusedPrismaCodes.has(link.code)) return true;
    if (typeof link.kind === 'string' && refusedAdapterKinds.has(link.kind)) return true;
    for (const code of [link.code, link.originalCode]) {
      if (typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code) && code !== '23505') return true;
    }
  }
  return false;
}

/**
 * An error as a log line that never copies input values: Prisma's messages quote the
 * whole invocation (every argument's value, a customer's text and phone number included),
 * so only their name, code, SQLSTATE and last line (the reason) are kept; anything else
 * is scrubbed.
 *
 * @example
 * ```ts
 * logger.error({ err: describeError(error) }, 'could not store the event');
 * ```
 */
export function describeError(error: unknown): string {
  const first = typeof error === 'object' && error !== null ? (error as Fields) : undefined;
  const name = typeof first?.name === 'string' ? first.name : '';
  if (!name.startsWith('PrismaClient')) return scrubText(error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 500);
  const parts = [name];
  if (typeof first?.code === 'string') parts.push(first.code);
  const adapter = first?.meta?.driverAdapterError?.cause;
  if (adapter !== undefined) parts.push(`SQLSTATE ${scalar(adapter.originalCode) ?? scalar(adapter.kind) ?? '?'}: ${scalar(adapter.originalMessage) ?? ''}`);
  const lines =
    typeof first?.message === 'string'
      ? first.message
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
      : [];
  const reason = lines.at(-1);
  // The last line is Prisma's reason ("Argument `text`: Invalid value provided. Expected String, provided Object.").
  if (reason !== undefined && adapter === undefined) parts.push(reason);
  return scrubText(parts.join(' ')).slice(0, 500);
}
