// Which work functions can see the signal `safeCall` passes them.
//
// `fn.length` cannot tell: rest and default parameters (`(...args) => ...`,
// `(signal = undefined) => ...`) count as 0, and a plain `function` can read `arguments[0]`.
// Only an arrow function that declares no parameter provably cannot see its argument
// (arrows have no `arguments`), so only it is spared the signal, whose creation costs
// microseconds on Node 20 and is invisible to it. Everything else gets a real signal.

/** `() =>` or `async () =>`, as `Function.prototype.toString` prints them. */
const parameterlessArrow = /^(?:async\s*)?\(\s*\)\s*=>/;

// One-entry memo: a call site that passes the same function each time reads its source once.
let lastFn: unknown;
let lastAnswer = true;

/**
 * True unless `fn` is an arrow function declaring no parameter.
 *
 * @param fn - The work.
 * @returns Whether `fn` can observe the argument it is called with.
 */
export function canSeeSignal(fn: (...args: never[]) => unknown): boolean {
  // The memo first: reading `length` goes through an accessor, slower than the comparison.
  if (fn === lastFn) return lastAnswer;
  const answer = fn.length > 0 || !parameterlessArrow.test(Function.prototype.toString.call(fn));
  lastFn = fn;
  lastAnswer = answer;
  return answer;
}
