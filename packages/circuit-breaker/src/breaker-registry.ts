import type { CircuitBreakerSnapshot, StateChangeListener } from './circuit-breaker.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { CircuitBreakerOptions } from './options.js';
import { everyOption } from './options.js';

/**
 * Options for a {@link BreakerRegistry}.
 *
 * @example
 * ```ts
 * import { BreakerRegistry } from '@hardening/circuit-breaker';
 * const registry = new BreakerRegistry({ defaults: { failureThreshold: 5 } });
 * ```
 */
export interface BreakerRegistryOptions {
  /**
   * Options every breaker created by the registry starts from; per-name options
   * passed to {@link BreakerRegistry.get} or {@link BreakerRegistry.configure} override them.
   * @default {}
   */
  readonly defaults?: Omit<CircuitBreakerOptions, 'name'> | undefined;
}

/** Called when a breaker is added to a registry. */
export type BreakerAddedListener = (breaker: CircuitBreaker) => void;

/**
 * Breakers keyed by service name (`twilio_sms`, `google_calendar_events`), created on
 * first use. One place to snapshot every breaker for a health endpoint or metrics, and
 * to listen to every state change.
 *
 * @example
 * ```ts
 * import { BreakerRegistry } from '@hardening/circuit-breaker';
 *
 * const registry = new BreakerRegistry({ defaults: { cooldownMs: 30_000 } });
 * registry.configure('openai_chat', { failureThreshold: 5 });
 * registry.onStateChange((change) => console.warn(`${change.name}: ${change.from} -> ${change.to}`));
 * await registry.get('openai_chat').execute(async () => 'ok');
 * console.log(registry.snapshot().map((s) => `${s.name}=${s.state}`));
 * ```
 */
export class BreakerRegistry {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly perName = new Map<string, Omit<CircuitBreakerOptions, 'name'>>();
  private readonly defaults: Omit<CircuitBreakerOptions, 'name'>;
  private stateListeners: StateChangeListener[] = [];
  private changes = 0;
  private addedListeners: BreakerAddedListener[] = [];

  /** @param options - See {@link BreakerRegistryOptions}. */
  constructor(options: BreakerRegistryOptions = {}) {
    this.defaults = options.defaults ?? {};
  }

  /**
   * The breaker for `name`, created on first use from the registry defaults, the
   * options set with {@link BreakerRegistry.configure}, and `options` (in that order).
   * Options passed for a name that already has a breaker are ignored.
   *
   * @param name - Service name.
   * @param options - Options for a breaker created now.
   * @returns The breaker.
   * @throws TypeError when `name` is empty or an option is out of range.
   */
  get(name: string, options?: Omit<CircuitBreakerOptions, 'name'>): CircuitBreaker {
    const existing = this.breakers.get(name);
    if (existing !== undefined) return existing;
    const breaker = new CircuitBreaker({ ...this.defaults, ...this.perName.get(name), ...options, name });
    this.breakers.set(name, breaker);
    breaker.onStateChange((change) => {
      for (const listener of this.stateListeners) listener(change);
    });
    for (const listener of this.addedListeners) listener(breaker);
    return breaker;
  }

  /**
   * Sets the options for `name`: the registry defaults, then `options`. A breaker that
   * already exists takes them at once, in place (see {@link CircuitBreaker.configure}): its
   * state, counts and listeners stay, and code holding it sees the new rules, slow-call
   * rule included. Options not given go back to the registry defaults.
   *
   * @param name - Service name.
   * @param options - Breaker options for that name.
   * @throws TypeError when an option is out of range (nothing changes then).
   * @example
   * ```ts
   * import { BreakerRegistry } from '@hardening/circuit-breaker';
   * const registry = new BreakerRegistry();
   * const chat = registry.get('openai_chat');
   * registry.configure('openai_chat', { slowCallRateThreshold: 50, slowCallDurationMs: 10_000 });
   * console.log(chat.options.slowCallRateThreshold); // 50
   * ```
   */
  configure(name: string, options: Omit<CircuitBreakerOptions, 'name'>): void {
    const existing = this.breakers.get(name);
    existing?.configure(everyOption({ ...this.defaults, ...options }));
    this.perName.set(name, options);
    if (existing !== undefined) this.changes++;
  }

  /**
   * Bumped whenever a breaker is reconfigured or removed, so callers that cache breakers
   * or facts about their options (such as `safeCall`) know to look them up again.
   */
  get version(): number {
    return this.changes;
  }

  /** The breaker for `name` if one exists, without creating it. */
  find(name: string): CircuitBreaker | undefined {
    return this.breakers.get(name);
  }

  /** Every breaker, in creation order. */
  all(): CircuitBreaker[] {
    return [...this.breakers.values()];
  }

  /** How many breakers the registry holds. */
  get size(): number {
    return this.breakers.size;
  }

  /**
   * Every breaker's snapshot, for health checks and metrics.
   *
   * @returns One snapshot per breaker.
   */
  snapshot(): CircuitBreakerSnapshot[] {
    return this.all().map((breaker) => breaker.snapshot());
  }

  /**
   * Listens to state changes of every breaker, present and future.
   *
   * @param listener - Called after each change.
   * @returns A function that removes the listener.
   */
  onStateChange(listener: StateChangeListener): () => void {
    this.stateListeners = [...this.stateListeners, listener];
    return () => {
      this.stateListeners = this.stateListeners.filter((l) => l !== listener);
    };
  }

  /**
   * Listens to breakers being created (used by shared state to attach to each breaker).
   *
   * @param listener - Called with each new breaker.
   * @returns A function that removes the listener.
   */
  onBreakerAdded(listener: BreakerAddedListener): () => void {
    this.addedListeners = [...this.addedListeners, listener];
    return () => {
      this.addedListeners = this.addedListeners.filter((l) => l !== listener);
    };
  }

  /** Removes every breaker (their listeners stay attached to the removed breakers). */
  clear(): void {
    this.breakers.clear();
    this.changes++;
  }
}

const defaultRegistryKey = Symbol.for('@hardening/circuit-breaker/default-registry');

/**
 * The process-wide registry `safeCall` uses. It lives on `globalThis` under a
 * `Symbol.for` key, so an app that loads the package twice (ESM and CJS) still has one
 * breaker per name.
 *
 * @returns The default registry.
 * @example
 * ```ts
 * import { getDefaultRegistry } from '@hardening/circuit-breaker';
 * console.log(getDefaultRegistry().snapshot());
 * ```
 */
export function getDefaultRegistry(): BreakerRegistry {
  const holder = globalThis as unknown as Record<symbol, BreakerRegistry | undefined>;
  return (holder[defaultRegistryKey] ??= new BreakerRegistry());
}
