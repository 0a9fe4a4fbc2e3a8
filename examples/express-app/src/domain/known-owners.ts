import { LRUCache } from 'lru-cache';
import type { OnboardingState } from '../db/generated/client.js';

/** What this instance last knew of an owner's client row: enough to guess their next step. */
export interface KnownOwner {
  readonly id: string;
  readonly state: OnboardingState;
}

/**
 * The owners this instance wrote or read lately, by phone, so the SMS hot path can guess
 * the sender's client row instead of reading it first (domain/receive-inbound.ts). A guess
 * is never trusted: the one statement that writes on it reads the row itself and writes
 * only when the row is what was guessed (db/inbound-statements.ts), so an entry made stale
 * by another instance, an admin or a restart costs one failed guess, never a wrong write.
 * Bounded (least recently used out), in memory, never logged.
 *
 * @example
 * ```ts
 * const known = new KnownOwners();
 * known.remember('+15551230000', { id: clientId, state: 'S1_WELCOME' });
 * known.get('+15551230000'); // { id: clientId, state: 'S1_WELCOME' }
 * ```
 */
export class KnownOwners {
  private readonly owners: LRUCache<string, KnownOwner>;

  /** @param capacity - The most phones kept (about 150 bytes each). */
  constructor(capacity = 10_000) {
    this.owners = new LRUCache({ max: capacity });
  }

  /** The owner last known for this phone; undefined when this instance knows nothing of it. */
  get(phone: string): KnownOwner | undefined {
    return this.owners.get(phone);
  }

  /** Keeps what was just written or read of this phone's client row. */
  remember(phone: string, owner: KnownOwner): void {
    this.owners.set(phone, owner);
  }

  /** Drops this phone (its row changed in a way this instance did not follow). */
  forget(phone: string): void {
    this.owners.delete(phone);
  }

  /** How many phones are kept. */
  get size(): number {
    return this.owners.size;
  }
}
