import { channel } from 'node:diagnostics_channel';
import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import type { CircuitState, StateChange } from './circuit-state.js';
import type { MetricNaming } from './telemetry-scope.js';
import { TelemetryScope, WeakCollection } from './telemetry-scope.js';

/** What a breaker exposes to its state gauge. */
interface Observed {
  readonly name: string;
  readonly state: CircuitState;
}

/** How one permitted call ended, or that it was refused. */
export type BreakerCallKind = 'successful' | 'failed' | 'ignored' | 'not_permitted';

/**
 * diagnostics_channel names this package publishes on (see docs/telemetry.md).
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * import { breakerChannels } from '@hardening/circuit-breaker';
 * subscribe(breakerChannels.stateChange, (change) => console.log(change));
 * ```
 */
export const breakerChannels = Object.freeze({
  /** A {@link StateChange}, after every transition. */
  stateChange: 'hardening:circuit-breaker:state-change',
  /** `{ name, state }` for every refused call. */
  refused: 'hardening:circuit-breaker:refused',
});

const stateChangeChannel = channel(breakerChannels.stateChange);
const refusedChannel = channel(breakerChannels.refused);

const live = new WeakCollection<Observed>();
const states: readonly CircuitState[] = ['closed', 'open', 'half-open', 'isolated'];
// resilience4j's state values (its FORCED_OPEN is what we call isolated).
const r4jState: Record<CircuitState, string> = { closed: 'closed', open: 'open', 'half-open': 'half_open', isolated: 'forced_open' };

interface Instruments {
  readonly naming: MetricNaming;
  readonly transitions: Counter;
  readonly calls: Counter | undefined;
  readonly callDuration: Histogram | undefined;
  readonly notPermitted: Counter | undefined;
}

function build(meter: Meter, naming: MetricNaming): Instruments {
  const r4j = naming === 'resilience4j';
  const state = meter.createObservableGauge(r4j ? 'resilience4j.circuitbreaker.state' : 'hardening.circuit_breaker.state', {
    description: 'Circuit breaker state: 1 for the current state, 0 for the others.',
  });
  state.addCallback((result) => {
    for (const breaker of live) {
      for (const s of states) {
        const value = breaker.state === s ? 1 : 0;
        if (r4j) result.observe(value, { name: breaker.name, state: r4jState[s] });
        else result.observe(value, { 'hardening.operation': breaker.name, 'hardening.circuit_breaker.state': s });
      }
    }
  });
  const transitions = meter.createCounter(r4j ? 'resilience4j.circuitbreaker.transitions' : 'hardening.circuit_breaker.transitions', {
    description: 'Circuit breaker state transitions.',
  });
  if (r4j) {
    return {
      naming,
      transitions,
      calls: undefined,
      callDuration: meter.createHistogram('resilience4j.circuitbreaker.calls', { unit: 's', description: 'Calls through the breaker, by kind.' }),
      notPermitted: meter.createCounter('resilience4j.circuitbreaker.not.permitted.calls', { description: 'Calls the breaker refused.' }),
    };
  }
  return {
    naming,
    transitions,
    calls: meter.createCounter('hardening.circuit_breaker.calls', { description: 'Calls through the breaker, by outcome (refused included).' }),
    callDuration: undefined,
    notPermitted: undefined,
  };
}

const scope = new TelemetryScope('@hardening/circuit-breaker', build);

/**
 * The breaker package's telemetry: one call per event from circuit-breaker.ts. Each is a
 * comparison and a boolean read (otel-global.ts) while no provider and no channel
 * subscriber exists.
 */
export const breakerTelemetry = {
  /** A breaker was created (for the state gauge). */
  track(breaker: Observed): void {
    live.add(breaker);
  },

  /** A transition happened. */
  transition(change: StateChange): void {
    if (stateChangeChannel.hasSubscribers) stateChangeChannel.publish(change);
    const instruments = scope.current()?.instruments;
    if (instruments === undefined) return;
    if (instruments.naming === 'resilience4j') {
      instruments.transitions.add(1, { name: change.name, from_state: r4jState[change.from], to_state: r4jState[change.to] });
    } else {
      instruments.transitions.add(1, {
        'hardening.operation': change.name,
        'hardening.circuit_breaker.previous_state': change.from,
        'hardening.circuit_breaker.state': change.to,
        'hardening.circuit_breaker.reason': change.reason,
      });
    }
  },

  /** A permitted call ended (`durationMs` may be 0 when the caller did not time it) or a call was refused. */
  call(name: string, kind: BreakerCallKind, durationMs: number, state: CircuitState): void {
    if (kind === 'not_permitted' && refusedChannel.hasSubscribers) refusedChannel.publish({ name, state });
    const instruments = scope.current()?.instruments;
    if (instruments === undefined) return;
    if (instruments.calls !== undefined) {
      instruments.calls.add(1, { 'hardening.operation': name, 'hardening.outcome': outcomeOf[kind] });
    } else if (kind === 'not_permitted') {
      instruments.notPermitted!.add(1, { name, kind });
    } else {
      instruments.callDuration!.record(durationMs / 1000, { name, kind });
    }
  },
};

const outcomeOf: Record<BreakerCallKind, string> = { successful: 'success', failed: 'failure', ignored: 'ignored', not_permitted: 'refused' };
