// One `abort` listener per caller signal, fanned out to every call that waits on it.
//
// A service often passes one request-scoped `AbortSignal` to many `safeCall`s at once (a
// batch of lookups, a fan-out to providers). Each call used to add its own listener to that
// signal (its attempt, its retry wait, its bulkhead queue place), and from the 11th
// concurrent call Node printed `MaxListenersExceededWarning: Possible EventTarget memory
// leak detected`: noise that hides real leaks, and an `addEventListener` plus
// `removeEventListener` per call on an EventTarget, which costs more than a `Set` add and
// delete. Here the signal gets one listener, added by the first subscriber and removed by the
// last, and the subscribers live in a `Set` held in a `WeakMap` keyed by the signal: nothing
// is kept alive by this module once the caller drops the signal or every call unsubscribes.

/**
 * Told once when the caller's signal aborts: a function, or an object with `handleEvent`
 * (so a class can be its own subscriber without a closure per call).
 */
export type CallerAbortSubscriber = (() => void) | { handleEvent(): void };

/** The subscribers of one signal, and the single listener that fans out to them. */
interface FanOut {
  readonly subscribers: Set<CallerAbortSubscriber>;
  readonly listener: () => void;
}

const fanOuts = new WeakMap<AbortSignal, FanOut>();

/**
 * Subscribes to the abort of a caller's signal. The subscriber is called at most once, and
 * not at all once it has unsubscribed. The caller checks `signal.aborted` first: a signal
 * that has already aborted never fires again, so subscribing to it does nothing useful.
 *
 * @param signal - The caller's signal.
 * @param subscriber - Called when the signal aborts.
 */
export function subscribeToAbort(signal: AbortSignal, subscriber: CallerAbortSubscriber): void {
  let fanOut = fanOuts.get(signal);
  if (fanOut === undefined) {
    const subscribers = new Set<CallerAbortSubscriber>();
    const listener = () => {
      fanOuts.delete(signal);
      // Subscribers unsubscribe while they are told (their call settles): tell a snapshot.
      const told = [...subscribers];
      subscribers.clear();
      for (const each of told) {
        // As with EventTarget listeners, one that throws does not stop the others, and its
        // error surfaces as an uncaught exception rather than vanishing.
        try {
          if (typeof each === 'function') each();
          else each.handleEvent();
        } catch (error) {
          queueMicrotask(() => {
            throw error;
          });
        }
      }
    };
    fanOut = { subscribers, listener };
    fanOuts.set(signal, fanOut);
    signal.addEventListener('abort', listener, { once: true });
  }
  fanOut.subscribers.add(subscriber);
}

/**
 * Removes a subscriber (a no-op if it is not subscribed, or the signal has aborted). The
 * last one out removes the signal's listener.
 *
 * @param signal - The caller's signal.
 * @param subscriber - The subscriber given to {@link subscribeToAbort}.
 */
export function unsubscribeFromAbort(signal: AbortSignal, subscriber: CallerAbortSubscriber): void {
  const fanOut = fanOuts.get(signal);
  if (fanOut === undefined || !fanOut.subscribers.delete(subscriber)) return;
  if (fanOut.subscribers.size === 0) {
    fanOuts.delete(signal);
    signal.removeEventListener('abort', fanOut.listener);
  }
}

/**
 * How many subscribers wait on `signal` (0 when none, or it has aborted). For tests and
 * diagnostics: a count that does not fall back to 0 once the calls settle is a leak.
 *
 * @param signal - A caller's signal.
 * @returns The number of subscribers.
 */
export function abortSubscriberCount(signal: AbortSignal): number {
  return fanOuts.get(signal)?.subscribers.size ?? 0;
}
