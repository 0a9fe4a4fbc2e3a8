/**
 * @internal A breaker's state as one discriminated union (as cockatiel keeps it): each
 * state carries exactly the data that exists in it, so "a probe count while closed" or
 * "an open breaker without a next attempt" cannot be written down.
 */
export type BreakerState = ClosedState | OpenState | HalfOpenState | IsolatedState;

/** Calls flow; the opening rules count their outcomes. */
export interface ClosedState {
  readonly kind: 'closed';
}

/** Calls are refused until `nextAttemptAt`. */
export interface OpenState {
  readonly kind: 'open';
  /** When the breaker first opened in this outage (kept across failed probes). */
  readonly openedAt: number;
  /** When the next probe may go through (epoch ms). */
  readonly nextAttemptAt: number;
}

/** Up to `halfOpenMaxCalls` probes go through; their outcomes close or re-open the breaker. */
export interface HalfOpenState {
  readonly kind: 'half-open';
  readonly openedAt: number;
  /** Probe tally, mutated in place while this state lasts. */
  readonly probes: ProbeTally;
}

/** Open by hand until closed by hand. */
export interface IsolatedState {
  readonly kind: 'isolated';
  readonly openedAt: number;
}

/** Probes admitted and their outcomes, for one half-open period. */
export interface ProbeTally {
  admitted: number;
  succeeded: number;
  failed: number;
  slow: number;
}

/** The one closed state (it carries no data, so it is shared). */
export const closedState: ClosedState = Object.freeze({ kind: 'closed' });
