import type { Clock } from '@hardening/circuit-breaker';

/**
 * How many wrong bearer tokens one client may present per window before the token
 * endpoints answer 429.
 *
 * @example
 * ```ts
 * import { createHealthRouter } from '@hardening/health';
 * createHealthRouter({ recovery, recoveryToken, authFailureLimit: { max: 5, windowMs: 60_000 } });
 * ```
 */
export interface AuthFailureLimitOptions {
  /**
   * Wrong tokens tolerated per client and window; the next request gets 429.
   * @default 10
   */
  readonly max?: number | undefined;
  /**
   * Length of the fixed window, from a client's first wrong token.
   * @default 900_000 (15 min)
   */
  readonly windowMs?: number | undefined;
}

const defaults = { max: 10, windowMs: 15 * 60_000 };

/** Clients tracked at most; expired windows are dropped first, then the oldest. */
const maxClients = 10_000;

/**
 * Counts wrong bearer tokens per client key (the client IP) in fixed windows. Not shared
 * across instances: a client can make `max` guesses per instance and window, which at
 * the defaults is still far from guessing a 16+ character token.
 */
export class AuthFailureLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private readonly max: number;
  private readonly windowMs: number;

  /**
   * @param options - See {@link AuthFailureLimitOptions}.
   * @param clock - Time source.
   * @throws TypeError when `max` or `windowMs` is not a positive integer.
   */
  constructor(
    options: AuthFailureLimitOptions,
    private readonly clock: Clock,
  ) {
    const { max = defaults.max, windowMs = defaults.windowMs } = options;
    if (!Number.isSafeInteger(max) || max < 1) throw new TypeError(`Expected \`authFailureLimit.max\` to be a positive integer, got ${String(max)}.`);
    if (!Number.isSafeInteger(windowMs) || windowMs < 1)
      throw new TypeError(`Expected \`authFailureLimit.windowMs\` to be a positive integer, got ${String(windowMs)}.`);
    this.max = max;
    this.windowMs = windowMs;
  }

  /** Milliseconds until `key` may try again, or undefined when it is not limited. */
  blockedFor(key: string): number | undefined {
    const entry = this.windows.get(key);
    const now = this.clock.now();
    if (entry === undefined || entry.resetAt <= now) return undefined;
    return entry.count >= this.max ? entry.resetAt - now : undefined;
  }

  /** Records one wrong token from `key`. */
  fail(key: string): void {
    const now = this.clock.now();
    const entry = this.windows.get(key);
    if (entry !== undefined && entry.resetAt > now) {
      entry.count++;
      return;
    }
    if (this.windows.size >= maxClients) this.prune(now);
    this.windows.set(key, { count: 1, resetAt: now + this.windowMs });
  }

  private prune(now: number): void {
    for (const [key, entry] of this.windows) if (entry.resetAt <= now) this.windows.delete(key);
    // Still full: forget the oldest windows (a Map iterates in insertion order).
    for (const key of this.windows.keys()) {
      if (this.windows.size < maxClients) break;
      this.windows.delete(key);
    }
  }
}
