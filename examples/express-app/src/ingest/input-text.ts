import { z } from 'zod';

// eslint-disable-next-line no-control-regex -- NUL is one of the characters looked for
const mayNeedCleaning = /[\u0000\uD800-\uDFFF]/;

/**
 * Text as PostgreSQL can store it: NUL characters removed (no text or jsonb value may hold
 * U+0000) and lone UTF-16 surrogates replaced by U+FFFD (jsonb refuses them).
 *
 * @example
 * ```ts
 * storableText('call me\u0000 back'); // 'call me back'
 * ```
 */
export function storableText(value: string): string {
  // Almost every field (all of Twilio's but a Body with an emoji) has neither a NUL nor any
  // surrogate: one scan for them instead of two replacing passes (about 20 fields per webhook).
  if (!mayNeedCleaning.test(value)) return value;
  // String.prototype.toWellFormed is ES2024 (the repo's lib is ES2023): the same by hand.
  // eslint-disable-next-line no-control-regex -- NUL is exactly what is being removed
  return value.replace(/\u0000/g, '').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** A webhook's form or JSON fields, made storable, with the originals that changed. */
export interface StorableFields {
  /** String fields only (a repeated or nested field is not one Twilio sends), made storable. */
  readonly fields: Record<string, string>;
  /** The originals of the fields that changed, JSON-escaped (`\u0000` stays visible). */
  readonly escaped: Record<string, string>;
}

/**
 * Makes every string field storable ({@link storableText}) and keeps, JSON-escaped, the
 * original of each field that changed: nothing the provider sent is silently lost, and
 * nothing the database refuses reaches it.
 *
 * @example
 * ```ts
 * const { fields, escaped } = storableFields(req.body); // escaped: { Body: 'hi\\u0000' }
 * ```
 */
export function storableFields(input: unknown): StorableFields {
  const fields: Record<string, string> = {};
  const escaped: Record<string, string> = {};
  if (typeof input !== 'object' || input === null) return { fields, escaped };
  const record = input as Record<string, unknown>;
  // Keys, not entries: one array per webhook where entries made a pair for every field.
  for (const rawKey of Object.keys(record)) {
    const value = record[rawKey];
    if (typeof value !== 'string') continue;
    const key = storableText(rawKey);
    const clean = storableText(value);
    fields[key] = clean;
    if (clean !== value || key !== rawKey) escaped[key] = JSON.stringify(value).slice(1, -1);
  }
  return { fields, escaped };
}

/** A provider id (Twilio SIDs: two letters and 32 hex digits; test ids are shorter). */
export const providerSid = z.string().regex(/^[A-Za-z0-9]{2,64}$/, 'must be 2-64 letters or digits');

/** The outbox row ids the app puts in status callback URLs. */
export const outboxRowId = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a UUID');

/** Where in a zod error the problems are (paths only: values are never logged). */
export function issuePaths(error: z.ZodError): string[] {
  return error.issues.slice(0, 10).map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.code}`);
}
