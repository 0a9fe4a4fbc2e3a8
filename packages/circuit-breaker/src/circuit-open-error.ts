const brand = Symbol.for('@hardening/error');

/**
 * Thrown (or returned as a rejection) when a call is refused because its breaker is open,
 * half-open with every probe slot taken, or isolated.
 *
 * The `code` is `CIRCUIT_OPEN` and the error carries the same brand as `@hardening/core`'s
 * `HardeningError`, so `isHardeningError` and {@link isCircuitOpenError} recognise it even
 * when the package is loaded twice (ESM and CJS).
 *
 * @example
 * ```ts
 * import { CircuitBreaker, isCircuitOpenError } from '@hardening/circuit-breaker';
 * const breaker = new CircuitBreaker({ name: 'twilio_sms' });
 * breaker.open();
 * try {
 *   await breaker.execute(async () => 'sent');
 * } catch (error) {
 *   if (isCircuitOpenError(error)) console.log('retry after', new Date(error.retryAt ?? 0));
 * }
 * ```
 */
export class CircuitOpenError extends Error {
  /** Stable machine-readable code. */
  readonly code = 'CIRCUIT_OPEN' as const;
  /** Name of the breaker that refused the call. */
  readonly breakerName: string;
  /** The breaker's state when it refused. */
  readonly state: 'open' | 'half-open' | 'isolated';
  /**
   * Earliest time (epoch ms) the breaker may let a probe through; `undefined` while isolated
   * or while half-open probes are still deciding.
   */
  readonly retryAt: number | undefined;
  declare readonly [brand]: 'CIRCUIT_OPEN';

  /**
   * @param breakerName - Name of the breaker.
   * @param state - State that caused the refusal.
   * @param retryAt - When a probe may next be let through (epoch ms).
   */
  constructor(breakerName: string, state: 'open' | 'half-open' | 'isolated', retryAt?: number) {
    const when = retryAt === undefined ? '' : `; next probe after ${new Date(retryAt).toISOString()}`;
    super(`Circuit "${breakerName}" is ${state}: call refused${when}`);
    this.name = 'CircuitOpenError';
    this.breakerName = breakerName;
    this.state = state;
    this.retryAt = retryAt;
    Object.defineProperty(this, brand, { value: 'CIRCUIT_OPEN', enumerable: false });
  }
}

/**
 * True when `error` is a {@link CircuitOpenError}, from any copy of the package.
 *
 * @param error - Anything caught.
 * @returns Whether it is a circuit-open refusal.
 * @example
 * ```ts
 * import { isCircuitOpenError } from '@hardening/circuit-breaker';
 * const refused = (e: unknown) => isCircuitOpenError(e) && e.breakerName === 'twilio_sms';
 * ```
 */
export function isCircuitOpenError(error: unknown): error is CircuitOpenError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[brand] === 'CIRCUIT_OPEN';
}
