// The attempt's AbortSignal, created lazily.
//
// On Node 20 creating an `AbortSignal` costs about 3 us on an idle machine (8-20 us under
// load, bench/core.bench.ts), ten times a whole safeCall. Most work that takes the signal
// only reads `signal.aborted`, or hands it to I/O that costs far more anyway. So the work
// receives a Proxy that is an `AbortSignal` to every check (`instanceof`, `fetch`,
// `AbortSignal.any`, `events.once`, `timers/promises`, `addEventListener`, `onabort`): it
// answers `aborted`, `reason`, `throwIfAborted` and its tag from the attempt's own state, and
// creates a real controller on any other use, forwarding everything to its signal from then
// on (already aborted if the attempt was). One visible difference: an event listener sees
// the underlying signal as `event.target`, `event.currentTarget` and `this`, not the object
// the work received.
//
// `util.inspect` (so `console.log`) bypasses a Proxy's traps and shows its target, which
// printed this file's `LazySignalState` with its fields instead of an `AbortSignal`. The
// state therefore carries Node's custom-inspect hook; Node calls it with the Proxy as
// `this`, which hands over the real signal to be shown the way Node shows any signal.

/** Read through the Proxy, gives the real signal (created if need be). */
const realSignal = Symbol('realSignal');

/** The state behind one attempt's signal. */
export class LazySignalState {
  aborted = false;
  reason: unknown = undefined;
  controller: AbortController | undefined = undefined;

  /** Aborts the signal (once) with `reason`. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }

  /** How `console.log` and `util.inspect` print the signal: like the real one (see above). */
  [Symbol.for('nodejs.util.inspect.custom')](this: unknown, _depth: number, options: object, inspect: (value: unknown, options: object) => string): string {
    return inspect((this as Record<symbol, AbortSignal>)[realSignal], options);
  }
}

function real(state: LazySignalState): AbortSignal {
  if (state.controller === undefined) {
    state.controller = new AbortController();
    if (state.aborted) state.controller.abort(state.reason);
  }
  return state.controller.signal;
}

function throwIfAborted(this: AbortSignal): void {
  if (this.aborted) throw this.reason;
}

const handler: ProxyHandler<LazySignalState> = {
  get(state, key) {
    if (state.controller === undefined) {
      if (key === 'aborted') return state.aborted;
      if (key === 'reason') return state.reason;
      if (key === 'throwIfAborted') return throwIfAborted;
      if (key === Symbol.toStringTag) return 'AbortSignal';
    }
    const signal = real(state);
    if (key === realSignal) return signal;
    return Reflect.get(signal, key, signal) as unknown;
  },
  set: (state, key, value) => Reflect.set(real(state), key, value, real(state)),
  has: (state, key) => Reflect.has(real(state), key),
  defineProperty: (state, key, descriptor) => Reflect.defineProperty(real(state), key, descriptor),
  deleteProperty: (state, key) => Reflect.deleteProperty(real(state), key),
  ownKeys: (state) => Reflect.ownKeys(real(state)),
  getOwnPropertyDescriptor: (state, key) => Reflect.getOwnPropertyDescriptor(real(state), key),
  getPrototypeOf: () => AbortSignal.prototype,
};

/**
 * An `AbortSignal` backed by `state`, whose real signal is created on first need.
 *
 * @param state - The attempt's signal state.
 * @returns The signal to hand to the work.
 */
export function lazySignal(state: LazySignalState): AbortSignal {
  return new Proxy(state, handler) as unknown as AbortSignal;
}
