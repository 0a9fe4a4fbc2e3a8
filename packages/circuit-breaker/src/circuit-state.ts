/**
 * The states a breaker can be in.
 *
 * - `closed`: calls flow; outcomes are counted.
 * - `open`: calls are rejected until the cooldown ends.
 * - `half-open`: a limited number of probe calls decide whether to close or re-open.
 * - `isolated`: opened by hand with {@link CircuitBreaker.isolate}; stays open until
 *   {@link CircuitBreaker.close} or {@link CircuitBreaker.reset}.
 *
 * @example
 * ```ts
 * import type { CircuitState } from '@hardening/circuit-breaker';
 * const healthy = (state: CircuitState) => state === 'closed';
 * ```
 */
export type CircuitState = 'closed' | 'open' | 'half-open' | 'isolated';

/**
 * Why a breaker changed state, as reported by state-change events.
 *
 * @example
 * ```ts
 * import type { StateChangeReason } from '@hardening/circuit-breaker';
 * const manual = (reason: StateChangeReason) => reason === 'manual';
 * ```
 */
export type StateChangeReason =
  | 'consecutive-failures'
  | 'failure-rate'
  | 'slow-call-rate'
  | 'cooldown-elapsed'
  | 'probe-succeeded'
  | 'probe-failed'
  | 'probe-timed-out'
  | 'manual'
  | 'restored'
  | 'remote';

/**
 * A state change, delivered to listeners registered with `onStateChange`.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from '@hardening/circuit-breaker';
 * const breaker = new CircuitBreaker({ name: 'twilio_sms' });
 * breaker.onStateChange((change) => console.log(change.name, change.from, '->', change.to, change.reason));
 * ```
 */
export interface StateChange {
  /** The breaker's name. */
  readonly name: string;
  /** State before the change. */
  readonly from: CircuitState;
  /** State after the change. */
  readonly to: CircuitState;
  /** What caused it. */
  readonly reason: StateChangeReason;
  /** When it happened, epoch milliseconds from the breaker's clock. */
  readonly at: number;
  /** When an open breaker lets the next probe through, epoch milliseconds (open states only). */
  readonly nextAttemptAt?: number;
}
