/** `T` without its `undefined` values: what {@link definedFields} returns. */
export type DefinedFields<T extends object> = { [K in keyof T]?: Exclude<T[K], undefined> };

/**
 * The fields of `value` that are set. An explicit `undefined` is dropped, so a default
 * spread under it stays: the way every options bag of the @hardening packages is merged
 * over its defaults (`{ timeoutMs: config.timeoutMs }` with the setting absent keeps the
 * default, as an omitted field does).
 *
 * @example
 * ```ts
 * import { definedFields } from '@hardening/core';
 * const defaults = { timeoutMs: 5000, attempts: 3 };
 * const resolved = { ...defaults, ...definedFields({ timeoutMs: undefined, attempts: 5 }) };
 * // { timeoutMs: 5000, attempts: 5 }
 * ```
 */
export function definedFields<T extends object>(value: T): DefinedFields<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as DefinedFields<T>;
}
