/**
 * Waits for `work` at most `ms` (always when `ms` is undefined). A rejection counts as
 * settled: callers that bound a shutdown step log its failure elsewhere, here they only need
 * to know whether to go on waiting. (Hand-written: a race against an unref'd timer that is
 * cleared when the work wins; no library adds anything to these ten lines.)
 *
 * @returns `true` when `work` settled in time, `false` when it was left running.
 * @example
 * ```ts
 * if (!(await settlesWithin(pool.end(), 3000))) logger.warn({}, 'pool left open: the database hung');
 * ```
 */
export async function settlesWithin(work: Promise<unknown>, ms: number | undefined): Promise<boolean> {
  const settled = work.then(
    () => true,
    () => true,
  );
  if (ms === undefined) return settled;
  return (await settleBy(settled, ms)) ?? false;
}

/**
 * `work`'s value, or undefined when it has not settled within `ms`; its rejection within `ms`
 * is rethrown. Work abandoned here may still fail later: nobody waits for it, so that error
 * is dropped (callers keep the event elsewhere, or answer so the sender retries).
 *
 * @example
 * ```ts
 * const stored = await settleBy(recordInbound(db, sms), answerBy - Date.now());
 * if (stored === undefined) spool(sms); // the database did not answer in time
 * ```
 */
export async function settleBy<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
    timer.unref();
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
