import { InvalidIdempotencyKeyError } from './errors/invalid-idempotency-key-error.js';

/** Longest key accepted, in UTF-8 bytes (Stripe's cap, which the IETF draft's users follow). */
export const maxKeyBytes = 255;

/**
 * Checks an idempotency key: a non-empty string of at most 255 UTF-8 bytes.
 *
 * @param key - The key to check.
 * @returns The key, typed as a string.
 * @throws {@link InvalidIdempotencyKeyError} naming what is wrong (never echoing the key).
 * @example
 * ```ts
 * import { assertIdempotencyKey } from '@hardening/idempotency';
 * assertIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324'); // ok
 * assertIdempotencyKey(''); // throws InvalidIdempotencyKeyError
 * ```
 */
export function assertIdempotencyKey(key: unknown): string {
  if (typeof key !== 'string') {
    throw new InvalidIdempotencyKeyError(
      'type',
      `Expected \`key\` to be a non-empty string of at most ${maxKeyBytes} bytes, got ${key === null ? 'null' : typeof key}.`,
    );
  }
  if (key.length === 0) {
    throw new InvalidIdempotencyKeyError('empty', `Expected \`key\` to be a non-empty string of at most ${maxKeyBytes} bytes, got an empty string.`);
  }
  // A UTF-16 length above 255 is over 255 bytes for sure; below 86 it cannot be (3 bytes per unit at most).
  const bytes = key.length < 86 ? key.length : Buffer.byteLength(key, 'utf8');
  if (bytes > maxKeyBytes) {
    throw new InvalidIdempotencyKeyError('too-long', `Expected \`key\` to be a non-empty string of at most ${maxKeyBytes} bytes, got ${bytes} bytes.`);
  }
  return key;
}
