/**
 * What a guard asks a store when it wants to run the protected function for a key.
 *
 * @example
 * ```ts
 * const request: ClaimRequest = { key: 'sms:SM123', token: crypto.randomUUID(), fingerprint: '', leaseMs: 30_000 };
 * ```
 */
export interface ClaimRequest {
  /** The full key (the guard's namespace already applied). */
  readonly key: string;
  /**
   * A token unique to this claim. Only the holder of the current token may complete or
   * release the record, so a worker whose lease expired cannot overwrite or release a
   * newer claim (a fencing token in the compare-and-set sense).
   */
  readonly token: string;
  /** Payload fingerprint, `''` when the caller gave none. */
  readonly fingerprint: string;
  /** How long the claim holds before another caller may take the key over. */
  readonly leaseMs: number;
}

/**
 * What a store answers to a claim: the caller now owns the key, someone else is running
 * it, or it already ran (with the stored result).
 */
export type ClaimOutcome =
  | {
      /** The caller owns the key now and must complete or release it. */
      readonly status: 'claimed';
    }
  | {
      /** Another caller holds the key and has not finished. */
      readonly status: 'in-progress';
      /** The fingerprint the current holder claimed with. */
      readonly fingerprint: string;
      /** Time left on the current holder's lease, when the store knows it. */
      readonly leaseRemainingMs: number | undefined;
    }
  | {
      /** The key was processed; replay the result. */
      readonly status: 'completed';
      /** The fingerprint of the run that completed. */
      readonly fingerprint: string;
      /** The serialized result, replayed to duplicates. */
      readonly result: string;
    };

/**
 * What a guard asks a store when the protected function succeeded.
 */
export interface CompleteRequest {
  /** The full key. */
  readonly key: string;
  /** The token of the claim being completed. */
  readonly token: string;
  /** The serialized result to replay to duplicates. */
  readonly result: string;
  /** How long the completed record is kept. */
  readonly retentionMs: number;
  /**
   * The fingerprint the claim was made with (the guard always passes it): for a store that
   * writes the completed record whole rather than from the in-progress one.
   */
  readonly fingerprint?: string | undefined;
  /**
   * True when the caller knows the claim is still the key's: the guard sets it while less
   * than half the lease has passed since it sent the claim, on a monotonic clock (the
   * store's own expiry counts from when it ran the claim, later still). Then no other
   * caller can hold the key unless the store lost it (a failover before the claim was
   * replicated, an eviction, a flush), and a store may record without comparing tokens:
   * the Redis store writes a plain `SET ... XX` instead of running its compare-and-set
   * script. It is Redlock's "validity time": what a lock holder may do before its TTL
   * could have run out. Absent or false, a store compares the token.
   */
  readonly claimHeld?: boolean | undefined;
}

/**
 * Where idempotency records live. Three implementations ship
 * ({@link createMemoryStore}, {@link createRedisStore}, {@link createPrismaStore}) and
 * all pass the same contract test suite; implement this to add another.
 *
 * The contract:
 * - `claim` is atomic: of any number of concurrent claims of one free key exactly one
 *   gets `claimed`. An in-progress record whose lease has ended counts as free.
 * - `complete` and `release` act only when `token` is the current claim's token and the
 *   record is still in progress; they resolve `false` otherwise and change nothing. A
 *   `complete` with {@link CompleteRequest.claimHeld} may skip the token comparison, as
 *   long as it never brings back a record the store no longer has.
 * - A completed record is kept for `retentionMs`, then the key is free again.
 * - Keys, fingerprints and results are kept byte for byte (strings without NUL
 *   characters, which PostgreSQL text cannot hold; the JSON codec never emits one).
 * - Failures reject (the guard wraps them in {@link IdempotencyStoreError}).
 *
 * @example
 * ```ts
 * import { createIdempotencyGuard, type IdempotencyStore } from '@hardening/idempotency';
 * declare const myStore: IdempotencyStore;
 * const guard = createIdempotencyGuard({ store: myStore });
 * ```
 */
export interface IdempotencyStore {
  /**
   * Claims `key` for the caller, or reports who holds it.
   * @param request - Key, token, fingerprint and lease.
   * @returns The outcome.
   */
  claim(request: ClaimRequest): Promise<ClaimOutcome>;
  /**
   * Marks the claimed record completed with its result.
   * @param request - Key, token, result and retention.
   * @returns `false` when the token no longer owns the record.
   */
  complete(request: CompleteRequest): Promise<boolean>;
  /**
   * Deletes an in-progress record so the key can be processed again.
   * @param key - The full key.
   * @param token - The token of the claim being released.
   * @returns `false` when the token no longer owns the record.
   */
  release(key: string, token: string): Promise<boolean>;
  /**
   * Deletes expired records, for stores that do not expire them by themselves
   * (PostgreSQL). Absent when the store needs no cleanup (Redis expires keys itself).
   * @returns How many records were deleted.
   */
  cleanup?(): Promise<number>;
}
