import { definedFields } from '../defined-fields.js';
import type { BackoffOptions } from './options.js';

/** Backoff with defaults applied. */
export interface ResolvedBackoff {
  readonly initialDelayMs: number;
  readonly factor: number;
  readonly maxDelayMs: number;
  readonly jitter: 'none' | 'full' | 'equal' | 'decorrelated';
}

export const backoffDefaults: ResolvedBackoff = Object.freeze({
  initialDelayMs: 1000,
  factor: 2,
  maxDelayMs: 30_000,
  jitter: 'none',
});

/**
 * The wait before retry number `retry` (1 for the first retry).
 *
 * @param backoff - Resolved backoff.
 * @param retry - Retry number, from 1.
 * @param random - Uniform [0, 1).
 * @param previousMs - The previous computed wait of this call (for decorrelated jitter).
 */
export function backoffDelay(backoff: ResolvedBackoff, retry: number, random: () => number, previousMs = backoff.initialDelayMs): number {
  if (backoff.jitter === 'decorrelated') {
    // AWS Architecture Blog, "Exponential Backoff And Jitter": sleep = min(cap, random_between(base, sleep * 3)).
    const low = backoff.initialDelayMs;
    const high = Math.max(low, previousMs * 3);
    return Math.min(backoff.maxDelayMs, Math.round(low + random() * (high - low)));
  }
  const exponential = Math.min(backoff.maxDelayMs, backoff.initialDelayMs * backoff.factor ** (retry - 1));
  switch (backoff.jitter) {
    case 'full':
      return Math.round(random() * exponential);
    case 'equal':
      return Math.round(exponential / 2 + (random() * exponential) / 2);
    default:
      return exponential;
  }
}

/**
 * Applies defaults and validates. A field given as `undefined` keeps its default, as an
 * omitted one does (`{ initialDelayMs: config.retryDelayMs }` with the setting absent).
 */
export function resolveBackoff(options: BackoffOptions | undefined, base: ResolvedBackoff = backoffDefaults): ResolvedBackoff {
  if (options === undefined) return base;
  const merged: ResolvedBackoff = { ...base, ...definedFields(options) };
  for (const key of ['initialDelayMs', 'maxDelayMs'] as const) {
    if (!Number.isFinite(merged[key]) || merged[key] < 0) {
      throw new TypeError(`Expected \`backoff.${key}\` to be a non-negative finite number, got ${String(merged[key])}.`);
    }
  }
  if (!Number.isFinite(merged.factor) || merged.factor < 1) {
    throw new TypeError(`Expected \`backoff.factor\` to be a number >= 1, got ${String(merged.factor)}.`);
  }
  if (!['none', 'full', 'equal', 'decorrelated'].includes(merged.jitter)) {
    throw new TypeError(`Expected \`backoff.jitter\` to be 'none', 'full', 'equal' or 'decorrelated', got ${JSON.stringify(merged.jitter)}.`);
  }
  return merged;
}
