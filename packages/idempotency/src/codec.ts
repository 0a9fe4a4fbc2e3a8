/**
 * Turns results into the strings a store keeps, and back.
 *
 * @example
 * ```ts
 * import type { ResultCodec } from '@hardening/idempotency';
 * const dates: ResultCodec<Date> = { serialize: (d) => d.toISOString(), deserialize: (s) => new Date(s) };
 * ```
 */
export interface ResultCodec<T = unknown> {
  /** Result to string. Throwing means the result cannot be stored. */
  serialize(value: T): string;
  /** String back to the result replayed to duplicates. */
  deserialize(text: string): T;
}

/**
 * The default codec: JSON inside an envelope, so `undefined` and `null` results replay
 * as themselves.
 *
 * @example
 * ```ts
 * import { jsonCodec } from '@hardening/idempotency';
 * jsonCodec.deserialize(jsonCodec.serialize({ sent: true })); // { sent: true }
 * ```
 */
export const jsonCodec: ResultCodec<unknown> = {
  serialize: (value) => JSON.stringify({ v: value }),
  deserialize: (text) => (JSON.parse(text) as { v?: unknown }).v,
};
