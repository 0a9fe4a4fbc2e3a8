import type { HealthCheck } from '../health-check.js';

/**
 * The {@link HealthCheck} fields every shipped check accepts, to rename it, change its
 * criticality or give it its own timeout and cache period.
 *
 * @example
 * ```ts
 * import type { CommonCheckOptions } from '@hardening/health';
 * const replica: CommonCheckOptions = { name: 'postgres-replica', critical: false, timeoutMs: 300 };
 * ```
 */
export type CommonCheckOptions = Partial<Pick<HealthCheck, 'name' | 'measurement' | 'componentType' | 'critical' | 'liveness' | 'timeoutMs' | 'cacheMs'>>;

/** Copies the common options that are set (internal). */
export function commonFields(options: CommonCheckOptions, fallback: Required<Pick<HealthCheck, 'name' | 'componentType'>> & Partial<HealthCheck>) {
  const picked: Record<string, unknown> = { ...fallback };
  for (const key of ['name', 'measurement', 'componentType', 'critical', 'liveness', 'timeoutMs', 'cacheMs'] as const) {
    if (options[key] !== undefined) picked[key] = options[key];
  }
  return picked as Omit<HealthCheck, 'check'>;
}

/** Rounds a duration in ms to 0.1 ms for reports. */
export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** Throws the house TypeError unless `value` is a non-negative finite number (or undefined). */
export function assertThreshold(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
    throw new TypeError(`Expected \`${name}\` to be a non-negative number, got ${shown(value)}.`);
  }
}

/** A bad option value as a TypeError shows it: strings quoted (`"5"` is not `5`), objects by kind, never "[object Object]". */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
