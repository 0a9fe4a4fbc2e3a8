/**
 * Whether an OpenTelemetry tracer or meter provider may be registered, as one boolean read
 * that stays exact without reading OTel's global on every call.
 *
 * `@opentelemetry/api` (every 1.x copy) keeps its registered providers as the `trace` and
 * `metrics` fields of one object on `globalThis[Symbol.for('opentelemetry.js.api.1')]`.
 * Reading that key costs about 23 ns on Node 20 and the fields of the object, once OTel has
 * deleted a field (`disable()`), are dictionary lookups: done twice per safeCall (core and
 * breaker) that alone cost more than the 5 % the no-provider path may add. So instead:
 *
 * - While OTel's global object does not exist, the key holds an accessor that reads as
 *   absent and, when `@opentelemetry/api` first writes it, turns back into the plain data
 *   property OTel wrote (an accessor left on `globalThis` would cost OTel itself about
 *   60 ns on every `context.active()`).
 * - While neither provider is registered, the object's `trace` and `metrics` fields are
 *   accessors of ours that read as absent; OTel's `registerGlobal` assigns the field, our
 *   setter keeps the value and sets {@link otelWatch}'s `maybe`.
 * - While `maybe` is set, {@link anyProviderRegistered} reads the fields (exact) and, once
 *   both are gone again (OTel's `disable()` deletes the field, our accessor with it), puts
 *   the accessors back and clears `maybe`.
 *
 * Not seen: a program that deletes OTel's global key itself (OTel never does; some test
 * helpers do) and then registers a provider on the fresh object OTel makes. When someone
 * else already put an accessor on the key or the fields, `maybe` stays set: every use reads
 * the global (exact, slower).
 *
 * The state is shared by every copy of every @hardening package (ESM and CJS) through a
 * `Symbol.for` slot, so that only one copy installs accessors.
 */

/** OTel's global object, as far as we read it. */
interface OtelGlobal {
  trace?: unknown;
  metrics?: unknown;
}

/** Process-wide watch state (one per process, whatever the number of package copies). */
export interface OtelWatch {
  /** False only while no provider is registered and our accessors will say when one is. */
  maybe: boolean;
  /** OTel's global object once it exists, when the key is a plain data property. */
  api: OtelGlobal | undefined;
  /** The getters of our field accessors (to tell them from someone else's). */
  readonly getters: WeakSet<() => unknown>;
}

const otelGlobalKey = Symbol.for('opentelemetry.js.api.1');
// Versioned: another version of this protocol in the same process keeps its own state.
const watchKey = Symbol.for('@hardening/telemetry.otel-watch.v2');
const fields = ['trace', 'metrics'] as const;

const slots = globalThis as unknown as Record<symbol, unknown>;

/** The shared watch state: read `otelWatch.maybe` on hot paths. */
export const otelWatch: OtelWatch = (slots[watchKey] as OtelWatch | undefined) ?? install();

function install(): OtelWatch {
  const watch: OtelWatch = { maybe: false, api: undefined, getters: new WeakSet() };
  Object.defineProperty(globalThis, watchKey, { value: watch, configurable: true });
  const existing = Object.getOwnPropertyDescriptor(globalThis, otelGlobalKey);
  if (existing === undefined) {
    let held: unknown = undefined;
    Object.defineProperty(globalThis, otelGlobalKey, {
      configurable: true,
      enumerable: false,
      get: () => held,
      set: (value: unknown) => {
        held = value;
        if (value === null || typeof value !== 'object') return; // not OTel's object: keep watching
        Object.defineProperty(globalThis, otelGlobalKey, { value, writable: true, configurable: true, enumerable: true });
        adopt(watch, value);
      },
    });
  } else if ('value' in existing) {
    adopt(watch, existing.value);
  } else {
    watch.maybe = true; // someone else's accessor: read the global on every use
  }
  return watch;
}

function adopt(watch: OtelWatch, value: unknown): void {
  if (value === null || typeof value !== 'object') {
    watch.maybe = true; // not an object OTel made: read the global on every use
    return;
  }
  watch.api = value;
  watch.maybe = !arm(watch);
}

/**
 * Puts our accessors on the `trace` and `metrics` fields that hold nothing.
 *
 * @returns Whether both fields are now ours and empty (nothing can be registered unseen).
 */
function arm(watch: OtelWatch): boolean {
  const api = watch.api!;
  for (const name of fields) {
    const field = Object.getOwnPropertyDescriptor(api, name);
    if (field !== undefined) {
      // eslint-disable-next-line @typescript-eslint/unbound-method -- the getter is only looked up as an identity key here
      if (field.get !== undefined && watch.getters.has(field.get)) {
        if (field.get() !== undefined) return false;
        continue;
      }
      // A registered provider, someone else's accessor, or a field we cannot replace.
      if (field.get !== undefined || field.set !== undefined || field.value !== undefined || field.configurable !== true) return false;
    }
    let held: unknown = undefined;
    const get = () => held;
    watch.getters.add(get);
    Object.defineProperty(api, name, {
      configurable: true,
      enumerable: true,
      get,
      set: (value: unknown) => {
        held = value;
        watch.maybe = true;
      },
    });
  }
  return true;
}

/**
 * Whether OTel has a tracer or meter provider registered, read exactly. When it has none
 * and the global is watched, our accessors go back in place and `maybe` is cleared.
 * Call it only when `otelWatch.maybe` is set.
 *
 * @returns True while a `trace` or `metrics` global is registered.
 */
export function anyProviderRegistered(): boolean {
  const watch = otelWatch;
  const api = watch.api ?? (slots[otelGlobalKey] as OtelGlobal | undefined);
  if (api !== undefined && api !== null && (api.trace !== undefined || api.metrics !== undefined)) return true;
  if (watch.api !== undefined) watch.maybe = !arm(watch);
  return false;
}
