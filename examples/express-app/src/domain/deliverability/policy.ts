import type { Logger } from '@hardening/core';
import type { AlertInput } from '../../alerts/alert-input.js';
import type { Db } from '../../db/database.js';

/** Options of the deliverability rules (suppression, opt-out, campaign breaker, status machine). */
export interface DeliverabilityOptions {
  /**
   * 30007 (carrier filtering) is about one message until it is about the sender: this many
   * 30007 results from one sender within {@link DeliverabilityOptions.spikeWindowMs} halt it.
   * Other sender codes (30034, 30032, 21408...) halt at the first.
   * @default 3
   */
  readonly spikeThreshold?: number;
  /** @default 600_000 (10 minutes) */
  readonly spikeWindowMs?: number;
  /**
   * A halted sender's first probe (one queued message let through) comes this long after
   * the halt, then every `probeIntervalMs` while it fails.
   * @default 300_000 (5 minutes)
   */
  readonly probeAfterMs?: number;
  /** @default 300_000 (5 minutes) */
  readonly probeIntervalMs?: number;
  /**
   * How long a message not essential waits when its opt-out state cannot be read.
   * @default 60_000
   */
  readonly unreadableRetryMs?: number;
}

/** The options with their defaults applied. */
export type ResolvedDeliverabilityOptions = Required<DeliverabilityOptions>;

const defaults: ResolvedDeliverabilityOptions = {
  spikeThreshold: 3,
  spikeWindowMs: 600_000,
  probeAfterMs: 300_000,
  probeIntervalMs: 300_000,
  unreadableRetryMs: 60_000,
};

/** Applies the defaults; rejects nonsense. */
export function resolveDeliverabilityOptions(options: DeliverabilityOptions = {}): ResolvedDeliverabilityOptions {
  const resolved = { ...defaults, ...options };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`Expected \`${name}\` to be a non-negative number.`);
  }
  if (resolved.spikeThreshold < 1) throw new TypeError('Expected `spikeThreshold` to be at least 1.');
  return resolved;
}

/**
 * Messages a recipient gets even when their opt-out state cannot be read (never when they
 * are known to have opted out): the answer to a text they just sent us, the fail-safe
 * text after their own call, an owner's urgent job alert, payment and number notices the
 * owner asked for. Everything else (the missed-call text-back, onboarding prompts, "you
 * are live") waits until the state can be read.
 */
export const essentialPurposes: ReadonlySet<string> = new Set(['reply', 'failsafe', 'owner_urgent', 'payment', 'number_ready', 'compliance']);

/** What the rules need from the app. */
export interface DeliverabilityDeps {
  readonly db: Db;
  readonly logger: Logger;
  readonly alert: (alert: AlertInput) => void;
  /** Counts a final delivery status (metrics). */
  readonly countFinal?: (status: string, errorClass: string) => void;
  /** Counts a send refused before Twilio (metrics). */
  readonly countRefused?: (reason: 'suppressed' | 'opted_out' | 'halted' | 'unreadable') => void;
  readonly now?: () => number;
}
