import pRetry, { AbortError as StopRetrying } from 'p-retry';
import type { BreakerRegistry, CircuitBreaker } from '@hardening/circuit-breaker';
import { isCircuitOpenError } from '@hardening/circuit-breaker';
import { retryAfterMs } from '../classifiers/http.js';
import { AbortedError, isAbortedError } from '../errors/aborted-error.js';
import { RetriesExhaustedError } from '../errors/retries-exhausted-error.js';
import type { Logger } from '../logger.js';
import { backoffDelay } from './backoff.js';
import { Bulkhead } from './bulkhead.js';
import type { DeadlineList } from './deadlines.js';
import { DeadlineScheduler } from './deadlines.js';
import { fallbackAllowed } from './give-up.js';
import type { GiveUpEvent, SafeCallHooks, SafeCallOptions } from './options.js';
import type { Policy } from './policy.js';
import { hasPolicyOverrides, resolvePolicy } from './policy.js';
import { RetryBudget } from './retry-budget.js';
import type { Work } from './timed-attempt.js';
import { TimedAttempt } from './timed-attempt.js';
import { perf } from './deadlines.js';

type GiveUpReason = GiveUpEvent['reason'];
type Decision = { retry: true; delayMs: number } | { retry: false; reason: GiveUpReason };

/** Everything one operation name owns: its policy, bulkhead, budget and deadline lists. */
export interface NameState {
  readonly policy: Policy;
  readonly bulkhead: Bulkhead | undefined;
  readonly budget: RetryBudget | undefined;
  readonly deadlines: DeadlineScheduler;
  /** The deadline list for the policy's own timeout (the common case, looked up once). */
  readonly defaultList: DeadlineList | undefined;
  /** Whether successes must be timed exactly (the deadline list cannot tell). */
  readonly exactDurations: boolean;
  /** The name's breaker, cached; valid while the registry's version is `registryVersion`. */
  breaker: CircuitBreaker | undefined;
  registryVersion: number;
}

/** A call in progress: what every attempt of it needs. */
interface Call<T> {
  readonly name: string;
  readonly fn: Work<T>;
  readonly options: SafeCallOptions<T> | undefined;
  readonly policy: Policy;
  readonly state: NameState;
}

/** For each registry, the loggers an engine already writes its state changes to. */
const transitionLoggers = new WeakMap<BreakerRegistry, WeakSet<Logger>>();

/** The machinery behind one `createSafeCall` instance. */
export class Engine {
  private readonly perName = new Map<string, SafeCallOptions>();
  private readonly states = new Map<string, NameState>();

  constructor(
    readonly registry: BreakerRegistry,
    private readonly base: Policy,
    private readonly logger: Logger,
    private readonly hooks: SafeCallHooks,
    private readonly random: () => number,
  ) {
    // Several safeCall instances may share one registry and one logger (an app's and its
    // alerting's): each logger gets a transition once; each instance's hook still runs.
    const loggers = transitionLoggers.get(registry) ?? new WeakSet<Logger>();
    transitionLoggers.set(registry, loggers);
    const logs = !loggers.has(logger);
    loggers.add(logger);
    registry.onStateChange((change) => {
      if (logs) {
        const line = { operation: change.name, from: change.from, to: change.to, reason: change.reason, nextAttemptAt: change.nextAttemptAt };
        if (change.to === 'open' || change.to === 'isolated') logger.warn(line, `circuit "${change.name}" ${change.to}: calls refused`);
        else logger.info(line, `circuit "${change.name}" ${change.to}`);
      }
      this.safely('onBreakerStateChange', () => hooks.onBreakerStateChange?.(change));
    });
  }

  /** Entry point of a call (arguments already checked). */
  call<T>(name: string, fn: Work<T>, options: SafeCallOptions<T> | undefined): Promise<T> {
    let state: NameState;
    let policy: Policy;
    try {
      state = this.stateFor(name, options);
      policy = options === undefined || !hasPolicyOverrides(options) ? state.policy : resolvePolicy(state.policy, options);
    } catch (error) {
      return Promise.reject(error);
    }
    const bulkhead = state.bulkhead;
    if (bulkhead === undefined) return this.first(name, fn, options, policy, state);
    const call: Call<T> = { name, fn, options, policy, state };
    const wait = bulkhead.acquire(options?.signal);
    if (wait === undefined) return this.first(name, fn, options, policy, state).finally(() => bulkhead.release());
    return this.afterQueue(call, bulkhead, wait);
  }

  configure(name: string, options: SafeCallOptions): void {
    resolvePolicy(this.base, options); // validate now, not at the first call
    this.perName.set(name, options);
    this.states.delete(name);
    if (options.breaker !== undefined && options.breaker !== false) this.registry.configure(name, options.breaker);
  }

  private stateFor(name: string, first: SafeCallOptions | undefined): NameState {
    let state = this.states.get(name);
    if (state === undefined) {
      const named = this.perName.get(name);
      const policy = named === undefined ? this.base : resolvePolicy(this.base, named);
      // The name's bulkhead and budget take the first call's settings when it has some.
      const creation = first !== undefined && hasPolicyOverrides(first) ? resolvePolicy(policy, first) : policy;
      const deadlines = new DeadlineScheduler(policy.slowCallThresholdMs);
      const breaker = creation.breaker === false ? undefined : this.registry.get(name, creation.breaker);
      state = {
        policy,
        bulkhead: creation.bulkhead === false ? undefined : new Bulkhead(name, creation.bulkhead),
        budget: creation.retryBudget === false ? undefined : new RetryBudget(creation.retryBudget),
        deadlines,
        defaultList: policy.timeoutMs === Infinity ? undefined : deadlines.list(policy.timeoutMs),
        exactDurations:
          policy.timeoutMs === Infinity ||
          this.hooks.onSuccess !== undefined ||
          (breaker !== undefined && breaker.options.slowCallRateThreshold !== undefined),
        breaker,
        registryVersion: this.registry.version,
      };
      this.states.set(name, state);
    }
    return state;
  }

  breakerFor(call: Call<unknown>): CircuitBreaker | undefined {
    if (call.policy.breaker === false) return undefined;
    const { state } = call;
    if (state.registryVersion !== this.registry.version || state.breaker === undefined) {
      state.breaker = this.registry.get(call.name, call.policy.breaker);
      state.registryVersion = this.registry.version;
    }
    return state.breaker;
  }

  /** Whether this call's successes must be timed exactly. */
  exactFor(call: Call<unknown>): boolean {
    return call.state.exactDurations || call.options?.hooks !== undefined || call.policy !== call.state.policy;
  }

  deadlineList(call: Call<unknown>): DeadlineList | undefined {
    const { timeoutMs } = call.policy;
    if (timeoutMs === Infinity) return undefined;
    return timeoutMs === call.state.policy.timeoutMs ? call.state.defaultList : call.state.deadlines.list(timeoutMs);
  }

  private first<T>(name: string, fn: Work<T>, options: SafeCallOptions<T> | undefined, policy: Policy, state: NameState): Promise<T> {
    let breaker: CircuitBreaker | undefined;
    if (policy.breaker !== false) {
      breaker = state.breaker;
      if (state.registryVersion !== this.registry.version || breaker === undefined) {
        breaker = state.breaker = this.registry.get(name, policy.breaker);
        state.registryVersion = this.registry.version;
      }
    }
    const permit = breaker === undefined ? 0 : breaker.acquire();
    if (permit < 0) return this.giveUp({ name, fn, options, policy, state }, breaker!.refusal(), 'circuit-open', 0);
    return new FirstAttempt(this, name, fn, options, policy, state, breaker, permit).run();
  }

  private async afterQueue<T>(call: Call<T>, bulkhead: Bulkhead, wait: Promise<void>): Promise<T> {
    try {
      await wait;
    } catch (error) {
      return this.giveUp(call, error, isAbortedError(error) ? 'aborted' : 'bulkhead-full', 0);
    }
    try {
      return await this.first(call.name, call.fn, call.options, call.policy, call.state);
    } finally {
      bulkhead.release();
    }
  }

  /** Ends the call with `error`: hooks, log line, fallback. */
  async giveUp<T>(call: Call<T>, error: unknown, reason: GiveUpReason, attempts: number): Promise<T> {
    const { name, options } = call;
    const final = reason === 'attempts' || reason === 'budget' || reason === 'retry-after' ? new RetriesExhaustedError(name, attempts, reason, error) : error;
    const correlationId = options?.correlationId;
    const event: GiveUpEvent = Object.freeze({ name, attempts, reason, error: final, correlationId });
    this.safely('onGiveUp', () => this.hooks.onGiveUp?.(event));
    if (options?.hooks?.onGiveUp !== undefined) this.safely('onGiveUp', () => options.hooks!.onGiveUp!(event));
    if (reason !== 'non-retryable' && reason !== 'aborted') {
      const line = { operation: name, attempts, reason, err: describe(final) };
      if (reason === 'circuit-open') this.log(correlationId).debug(line, `"${name}" refused: circuit open`);
      else this.log(correlationId).warn(line, `"${name}" failed: ${reason}`);
    }
    if (options?.fallback !== undefined && fallbackAllowed(reason)) return options.fallback(final);
    throw final;
  }

  /** Records a success: slow-call warning and hooks. */
  succeeded(call: Call<unknown>, attempts: number, durationMs: number): void {
    const { name, options, policy } = call;
    const hooks = options?.hooks;
    if (durationMs >= policy.slowCallThresholdMs) {
      const event = Object.freeze({ name, attempts, durationMs, correlationId: options?.correlationId });
      this.log(options?.correlationId).warn(
        { operation: name, durationMs: Math.round(durationMs), thresholdMs: policy.slowCallThresholdMs },
        `slow call to "${name}"`,
      );
      this.safely('onSlowCall', () => this.hooks.onSlowCall?.(event));
      if (hooks?.onSlowCall !== undefined) this.safely('onSlowCall', () => hooks.onSlowCall!(event));
    }
    if (this.hooks.onSuccess !== undefined || hooks?.onSuccess !== undefined) {
      const event = Object.freeze({ name, attempts, durationMs, correlationId: options?.correlationId });
      this.safely('onSuccess', () => this.hooks.onSuccess?.(event));
      if (hooks?.onSuccess !== undefined) this.safely('onSuccess', () => hooks.onSuccess!(event));
    }
  }

  /** True when a success needs {@link Engine.succeeded} (kept cheap for the hot path). */
  wantsSuccessReport(call: Call<unknown>, durationMs: number): boolean {
    return durationMs >= call.policy.slowCallThresholdMs || this.hooks.onSuccess !== undefined || call.options?.hooks?.onSuccess !== undefined || call.options?.hooks?.onSlowCall !== undefined;
  }

  timedOut(call: Call<unknown>, attempt: number): void {
    const hook = call.options?.hooks?.onTimeout;
    if (this.hooks.onTimeout === undefined && hook === undefined) return;
    const event = Object.freeze({ name: call.name, attempt, timeoutMs: call.policy.timeoutMs, correlationId: call.options?.correlationId });
    this.safely('onTimeout', () => this.hooks.onTimeout?.(event));
    if (hook !== undefined) this.safely('onTimeout', () => hook(event));
  }

  /**
   * Attempts 2..n. p-retry drives the loop; the waits are ours (exponential with jitter,
   * `Retry-After`, retry budget), taken in `onFailedAttempt`, which p-retry awaits.
   */
  async retry<T>(call: Call<T>, firstError: unknown): Promise<T> {
    const first = this.decide(call, firstError, 1);
    if (!first.retry) return this.giveUp(call, this.finalError(call, firstError, first.reason), first.reason, 1);
    this.announceRetry(call, 1, first.delayMs, firstError);
    try {
      await this.sleep(first.delayMs, call);
    } catch (aborted) {
      return this.giveUp(call, aborted, 'aborted', 1);
    }
    let attempt = 1;
    let last: unknown = firstError;
    let stop: GiveUpReason | undefined;
    let nextDelayMs = 0;
    try {
      return await pRetry(
        async () => {
          attempt++;
          try {
            return await this.attempt(call, attempt);
          } catch (error) {
            if (error instanceof StopRetrying) {
              last = error.originalError;
              stop = 'circuit-open';
              throw error;
            }
            last = error;
            if (isAbortedError(error)) {
              stop = 'aborted';
              throw new StopRetrying(error);
            }
            throw new AttemptFailed();
          }
        },
        {
          retries: call.policy.attempts - 2,
          minTimeout: 0,
          maxTimeout: 0,
          factor: 1,
          randomize: false,
          shouldRetry: () => {
            const decision = this.decide(call, last, attempt);
            if (!decision.retry) {
              stop = decision.reason;
              return false;
            }
            nextDelayMs = decision.delayMs;
            return true;
          },
          onFailedAttempt: async () => {
            if (stop !== undefined) return;
            this.announceRetry(call, attempt, nextDelayMs, last);
            try {
              await this.sleep(nextDelayMs, call);
            } catch (aborted) {
              stop = 'aborted';
              last = aborted;
              throw aborted;
            }
          },
        },
      );
    } catch {
      return this.giveUp(call, this.finalError(call, last, stop ?? 'attempts'), stop ?? 'attempts', attempt);
    }
  }

  /** A breaker refusal decided before an attempt is reported as the breaker's error. */
  private finalError(call: Call<unknown>, error: unknown, reason: GiveUpReason): unknown {
    if (reason !== 'circuit-open' || isCircuitOpenError(error)) return error;
    return this.breakerFor(call)?.refusal() ?? error;
  }

  /** One retry attempt: breaker permit, timed run, outcome recorded; rejects on failure. */
  private attempt<T>(call: Call<T>, attempt: number): Promise<T> {
    const breaker = this.breakerFor(call);
    const permit = breaker === undefined ? 0 : breaker.acquire();
    if (permit < 0) return Promise.reject(new StopRetrying(breaker!.refusal()));
    return new RetryAttempt(this, call, breaker, permit, attempt).run();
  }

  private decide(call: Call<unknown>, error: unknown, attempt: number): Decision {
    const { name, policy, state } = call;
    if (isAbortedError(error)) return { retry: false, reason: 'aborted' };
    let retryable: boolean;
    try {
      retryable = policy.retryable(error, { name, attempt, attemptsLeft: policy.attempts - attempt });
    } catch (predicateError) {
      this.logger.error({ operation: name, err: describe(predicateError) }, 'safeCall `retryable` predicate threw; not retrying');
      retryable = false;
    }
    if (!retryable) return { retry: false, reason: 'non-retryable' };
    if (attempt >= policy.attempts) return { retry: false, reason: 'attempts' };
    let delayMs = backoffDelay(policy.backoff, attempt, this.random);
    const asked = retryAfterMs(error);
    if (asked !== undefined) {
      if (asked > policy.backoff.maxDelayMs) return { retry: false, reason: 'retry-after' };
      delayMs = Math.max(delayMs, asked);
    }
    const breaker = this.breakerFor(call);
    if (breaker !== undefined && (breaker.state === 'isolated' || (breaker.state === 'open' && breaker.snapshot().nextAttemptAt! > Date.now() + delayMs))) {
      // The breaker would refuse the next attempt anyway: say so now instead of waiting.
      return { retry: false, reason: 'circuit-open' };
    }
    if (state.budget !== undefined && !state.budget.tryRetry(perf.now())) return { retry: false, reason: 'budget' };
    return { retry: true, delayMs };
  }

  private announceRetry(call: Call<unknown>, attempt: number, delayMs: number, error: unknown): void {
    const { name, options } = call;
    const correlationId = options?.correlationId;
    const event = Object.freeze({ name, attempt, delayMs, error, correlationId });
    this.safely('onRetry', () => this.hooks.onRetry?.(event));
    if (options?.hooks?.onRetry !== undefined) this.safely('onRetry', () => options.hooks!.onRetry!(event));
    this.log(correlationId).debug({ operation: name, attempt, delayMs, err: describe(error) }, `"${name}" attempt ${attempt} failed; retrying`);
  }

  private sleep(ms: number, call: Call<unknown>): Promise<void> {
    const signal = call.options?.signal;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(new AbortedError(call.name, signal.reason));
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(new AbortedError(call.name, signal!.reason));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private safely(hook: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.logger.error({ hook, err: describe(error) }, 'safeCall hook threw; ignored');
    }
  }

  private log(correlationId: string | undefined): Logger {
    return correlationId !== undefined && this.logger.child !== undefined ? this.logger.child({ correlationId }) : this.logger;
  }
}

/**
 * The first attempt, on the hot path: no async function, no p-retry, no allocation but
 * itself and its promise.
 *
 * Why p-retry only drives attempts 2..n: measured in bench/core.bench.ts's run on this
 * machine kind, `pRetry(fn)` alone costs about 3.8 us per successful call (it builds a
 * `retry` operation, a timeouts array and two promises), against about 50 ns for a bare
 * `await fn()`; the whole first attempt here costs about 320 ns. Once an attempt has
 * failed, the wait before the next one dwarfs p-retry's cost, so it runs the loop. It is also the {@link Call} the retries and give-ups use. It
 * settles with the value, or hands over to {@link Engine.retry} on failure.
 */
class FirstAttempt<T> extends TimedAttempt<T> implements Call<T> {
  constructor(
    private readonly engine: Engine,
    name: string,
    readonly fn: Work<T>,
    readonly options: SafeCallOptions<T> | undefined,
    readonly policy: Policy,
    readonly state: NameState,
    private readonly breaker: CircuitBreaker | undefined,
    private readonly permit: number,
  ) {
    super(name);
  }

  protected get timeoutMs(): number {
    return this.policy.timeoutMs;
  }

  protected get exact(): boolean {
    return this.state.exactDurations || this.options?.hooks !== undefined || this.policy !== this.state.policy;
  }

  run(): Promise<T> {
    const promise = new Promise<T>(captureResolve);
    this.resolve = captured as (value: T | PromiseLike<T>) => void;
    const now = perf.now();
    this.state.budget?.recordCall(now);
    this.begin(this.fn, this.engine.deadlineList(this), this.options?.signal, now);
    return promise;
  }

  protected onValue(value: T, durationMs: number): void {
    this.breaker?.recordSuccess(this.permit, durationMs);
    if (this.engine.wantsSuccessReport(this, durationMs)) this.engine.succeeded(this, 1, durationMs);
    this.settle(value);
  }

  protected onError(error: unknown, durationMs: number, timedOut: boolean): void {
    if (timedOut) this.engine.timedOut(this, 1);
    this.breaker?.recordFailure(this.permit, durationMs, error);
    this.settle(this.engine.retry(this, error));
  }

  protected onAbort(error: AbortedError): void {
    this.breaker?.recordIgnored(this.permit);
    this.settle(this.engine.giveUp(this, error, 'aborted', 1));
  }
}

// `new Promise(captureResolve)` hands back its resolve function without allocating a
// closure per call (the executor runs synchronously inside the constructor).
let captured: ((value: never) => void) | undefined;
function captureResolve(resolve: (value: never) => void): void {
  captured = resolve;
}

/** Attempts after the first, run inside p-retry: they reject on failure. */
class RetryAttempt<T> extends TimedAttempt<T> {
  constructor(
    private readonly engine: Engine,
    private readonly call: Call<T>,
    private readonly breaker: CircuitBreaker | undefined,
    private readonly permit: number,
    private readonly attempt: number,
  ) {
    super(call.name);
  }

  protected get timeoutMs(): number {
    return this.call.policy.timeoutMs;
  }

  protected get exact(): boolean {
    return this.engine.exactFor(this.call);
  }

  run(): Promise<T> {
    const promise = new Promise<T>(captureResolve);
    this.resolve = captured as (value: T | PromiseLike<T>) => void;
    this.begin(this.call.fn, this.engine.deadlineList(this.call), this.call.options?.signal, perf.now());
    return promise;
  }

  protected onValue(value: T, durationMs: number): void {
    this.breaker?.recordSuccess(this.permit, durationMs);
    if (this.engine.wantsSuccessReport(this.call, durationMs)) this.engine.succeeded(this.call, this.attempt, durationMs);
    this.settle(value);
  }

  protected onError(error: unknown, durationMs: number, timedOut: boolean): void {
    if (timedOut) this.engine.timedOut(this.call, this.attempt);
    this.breaker?.recordFailure(this.permit, durationMs, error);
    this.settle(Promise.reject(error));
  }

  protected onAbort(error: AbortedError): void {
    this.breaker?.recordIgnored(this.permit);
    this.settle(Promise.reject(error));
  }
}

/** Thrown to p-retry in place of the attempt's error, which p-retry would decorate (mutate). */
class AttemptFailed extends Error {
  constructor() {
    super('attempt failed');
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
