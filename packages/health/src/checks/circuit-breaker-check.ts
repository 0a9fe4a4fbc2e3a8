import { getDefaultRegistry, type CircuitBreakerSnapshot } from '@hardening/circuit-breaker';
import type { CheckObservation, HealthCheck } from '../health-check.js';
import { commonFields, type CommonCheckOptions } from './check-options.js';

/**
 * Where breaker states come from: a `BreakerRegistry` (from any copy of
 * `@hardening/circuit-breaker`) fits.
 *
 * @example
 * ```ts
 * import { BreakerRegistry } from '@hardening/circuit-breaker';
 * import type { BreakerSnapshotSource } from '@hardening/health';
 * const source: BreakerSnapshotSource = new BreakerRegistry();
 * ```
 */
export interface BreakerSnapshotSource {
  snapshot(): ReadonlyArray<Pick<CircuitBreakerSnapshot, 'name' | 'state' | 'nextAttemptAt'>>;
}

/**
 * Options for {@link circuitBreakerCheck}.
 *
 * @example
 * ```ts
 * import type { CircuitBreakerCheckOptions } from '@hardening/health';
 * const options: CircuitBreakerCheckOptions = { criticalBreakers: ['twilio_sms'] };
 * ```
 */
export interface CircuitBreakerCheckOptions extends CommonCheckOptions {
  /**
   * The breakers to report.
   * @default getDefaultRegistry() (the one `safeCall` uses)
   */
  readonly registry?: BreakerSnapshotSource | undefined;
  /**
   * Breakers the service cannot work without: open (or isolated) they `fail`; every
   * other open breaker only `warn`s. Names, or a predicate.
   * @default [] (no breaker is critical)
   */
  readonly criticalBreakers?: (readonly string[] | ((name: string) => boolean)) | undefined;
  /**
   * Time source, to say how long until an open breaker's next probe.
   * @default Date.now
   */
  readonly now?: (() => number) | undefined;
}

/**
 * Every circuit breaker's state, one observation per breaker under
 * `circuitBreakers:state`: closed `pass`; half-open `warn`; open or isolated `fail` for
 * a critical breaker, `warn` otherwise. The check itself is critical (so a critical
 * breaker being open fails readiness) unless you set `critical: false`.
 *
 * @param options - See {@link CircuitBreakerCheckOptions}.
 * @returns The check.
 * @throws TypeError when `registry` has no `snapshot()` or `criticalBreakers` is malformed.
 * @example
 * ```ts
 * import { circuitBreakerCheck } from '@hardening/health';
 * const check = circuitBreakerCheck({ criticalBreakers: ['postgres', 'twilio_sms'] });
 * ```
 */
export function circuitBreakerCheck(options: CircuitBreakerCheckOptions = {}): HealthCheck {
  const { registry = getDefaultRegistry(), criticalBreakers = [], now = Date.now } = options;
  if (typeof registry?.snapshot !== 'function') throw new TypeError('Expected `registry` to be a BreakerRegistry (with `snapshot()`).');
  let isCritical: (name: string) => boolean;
  if (typeof criticalBreakers === 'function') isCritical = criticalBreakers;
  else if (Array.isArray(criticalBreakers)) {
    const set = new Set(criticalBreakers);
    isCritical = (name) => set.has(name);
  } else throw new TypeError('Expected `criticalBreakers` to be an array of breaker names or a function.');
  return {
    ...commonFields(options, { name: 'circuitBreakers', measurement: 'state', componentType: 'component' }),
    check() {
      const snapshots = registry.snapshot();
      if (snapshots.length === 0) return { status: 'pass', observedValue: 0, observedUnit: 'breakers', output: 'no breakers registered' };
      return snapshots.map((s): CheckObservation => {
        const critical = isCritical(s.name);
        const base = { componentId: s.name, observedValue: s.state };
        switch (s.state) {
          case 'closed':
            return { ...base, status: 'pass' };
          case 'half-open':
            return { ...base, status: 'warn', output: 'half-open: probing whether the dependency recovered' };
          default: {
            const wait = s.nextAttemptAt === undefined ? undefined : Math.max(0, Math.ceil((s.nextAttemptAt - now()) / 1000));
            const when = s.state === 'isolated' ? 'isolated by hand' : wait === undefined ? 'open' : `open; next probe in ${wait} s`;
            return {
              ...base,
              status: critical ? 'fail' : 'warn',
              output: `${when}${critical ? '' : '; not critical'}`,
            };
          }
        }
      });
    },
  };
}
