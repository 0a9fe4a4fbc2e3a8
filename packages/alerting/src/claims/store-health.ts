import { hasErrorCode, isCircuitOpenError, isTransientError } from '@hardening/core';
import { isAlertStoreUnavailableError } from '../errors/store-unavailable-error.js';

/** Walks `cause` links (bounded). */
function* causes(error: unknown): Generator<unknown> {
  let link: unknown = error;
  for (let depth = 0; depth < 6 && link !== undefined && link !== null; depth++) {
    yield link;
    link = typeof link === 'object' ? (link as { cause?: unknown }).cause : undefined;
  }
}

/** Whether a store call failed by running out of time (slow), rather than being refused. */
export function isStoreTimeout(error: unknown): boolean {
  for (const link of causes(error)) if (hasErrorCode(link, 'TIMEOUT')) return true;
  return false;
}

/**
 * Whether a store error means the store is KNOWN down: its breaker is open, the connection
 * was refused or reset, the client gave up on a closed connection, or the store said so
 * ({@link AlertStoreUnavailableError}). A timeout is not "down": the store may be slow and
 * still decide the claim.
 */
export function isStoreDownError(error: unknown): boolean {
  for (const link of causes(error)) {
    if (isCircuitOpenError(link) || isAlertStoreUnavailableError(link)) return true;
  }
  return !isStoreTimeout(error) && isTransientError(error);
}

/** Connection errors raised before a request was written: the store never saw it. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Whether a failed store call certainly never reached the store: its breaker is open, the
 * store said it is unavailable ({@link AlertStoreUnavailableError}), or the connection was
 * refused or not found. Any other failure (a timeout, a connection reset or closed while
 * the request was in flight, a protocol error, a client that gave up after retries) leaves
 * the answer unknown: the write may have landed, and a claim may have been won.
 */
export function isStoreCallUnsent(error: unknown): boolean {
  for (const link of causes(error)) {
    if (isCircuitOpenError(link) || isAlertStoreUnavailableError(link)) return true;
    const code = typeof link === 'object' && link !== null ? (link as { code?: unknown }).code : undefined;
    if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return true;
  }
  return false;
}

/**
 * The state of one store as this instance last saw it (in the alert system status).
 *
 * @example
 * ```ts
 * import type { StoreState } from '@hardening/alerting';
 * const down = (stores: readonly StoreState[]) => stores.filter((s) => s.state === 'down').map((s) => s.store);
 * ```
 */
export interface StoreState {
  readonly store: string;
  /** `up`: last call answered; `slow`: answered after `slowMs`; `down`: known down or no answer in time. */
  readonly state: 'up' | 'slow' | 'down';
  /** Since when (epoch ms). */
  readonly since: number;
  /** Why it is not up (scrubbed). */
  readonly reason?: string;
}

/**
 * Tracks the health of one store from the calls made on it, and says when it changed
 * (the self-monitor raises an alert on a change to `down`).
 */
export class StoreHealth {
  private current: StoreState;

  constructor(
    private readonly store: string,
    private readonly slowMs: number,
    private readonly onChange: (next: StoreState, previous: StoreState) => void,
    now: number,
  ) {
    this.current = { store, state: 'up', since: now };
  }

  get state(): StoreState {
    return this.current;
  }

  /** A call answered after `tookMs`. */
  answered(tookMs: number, now: number): void {
    this.move(tookMs >= this.slowMs ? 'slow' : 'up', now, tookMs >= this.slowMs ? `answered in ${Math.round(tookMs)} ms` : undefined);
  }

  /** A call failed with `reason`; `down` unless it was an error the store returned while up. */
  failed(error: unknown, reason: string, now: number): void {
    if (isStoreDownError(error) || isStoreTimeout(error)) this.move('down', now, reason);
  }

  private move(state: StoreState['state'], now: number, reason: string | undefined): void {
    const previous = this.current;
    if (previous.state === state) {
      if (reason !== undefined && previous.reason !== reason) this.current = { ...previous, reason };
      return;
    }
    this.current = { store: this.store, state, since: now, ...(reason !== undefined ? { reason } : {}) };
    this.onChange(this.current, previous);
  }
}
