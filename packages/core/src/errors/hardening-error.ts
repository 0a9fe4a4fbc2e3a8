/** The brand every `@hardening` error carries, shared across copies of the packages. */
export const errorBrand = Symbol.for('@hardening/error');

/**
 * Every code a `@hardening/core` error can have. Other `@hardening` packages add their
 * own codes on their own subclasses.
 */
export type CoreErrorCode = 'TIMEOUT' | 'CIRCUIT_OPEN' | 'RETRIES_EXHAUSTED' | 'BULKHEAD_FULL' | 'ABORTED' | 'FAILED_RESULT';

/**
 * Base class of the errors the `@hardening` packages throw. Branch on `code`, or use the
 * `isXError` guards, which (unlike `instanceof`) still work when a package is loaded twice
 * (ESM and CJS).
 *
 * @example
 * ```ts
 * import { HardeningError, isHardeningError } from '@hardening/core';
 *
 * class QuotaError extends HardeningError<'QUOTA'> {
 *   constructor() {
 *     super('QUOTA', 'Daily SMS quota reached');
 *   }
 * }
 * console.log(isHardeningError(new QuotaError())); // true
 * ```
 */
export class HardeningError<Code extends string = string> extends Error {
  /** Stable machine-readable code. */
  readonly code: Code;
  declare readonly [errorBrand]: Code;

  /**
   * @param code - Stable code, e.g. `TIMEOUT`.
   * @param message - Human-readable message (no secrets, no phone numbers).
   * @param options - `cause`: the error this one wraps.
   */
  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
    Object.defineProperty(this, errorBrand, { value: code, enumerable: false });
  }
}

/**
 * True for any error thrown by a `@hardening` package (from any copy of it).
 *
 * @param error - Anything caught.
 * @returns Whether it is a `@hardening` error.
 * @example
 * ```ts
 * import { isHardeningError } from '@hardening/core';
 * const ours = (e: unknown) => isHardeningError(e) && e.code !== 'TIMEOUT';
 * ```
 */
export function isHardeningError(error: unknown): error is HardeningError {
  return typeof error === 'object' && error !== null && typeof (error as Record<symbol, unknown>)[errorBrand] === 'string';
}

/**
 * True when `error` is a `@hardening` error with the given code.
 *
 * @param error - Anything caught.
 * @param code - The code to match.
 * @returns Whether it matches.
 * @example
 * ```ts
 * import { hasErrorCode } from '@hardening/core';
 * const tooBusy = (e: unknown) => hasErrorCode(e, 'BULKHEAD_FULL');
 * ```
 */
export function hasErrorCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[errorBrand] === code;
}
