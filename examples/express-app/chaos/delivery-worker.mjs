// The harness's HTTP client for webhook deliveries, on a thread of its own. A delivery's
// timeout (Twilio 15 s, Slack 3 s) is a timer of the loop that runs it; the harness's main
// loop also runs the PostgreSQL proxy and the provider stand-ins and stalls (up to 337 ms
// measured), which aborted requests the app had already answered. This thread does
// nothing but fetch, so its timings (startedAt, endedAt) are the wire's.
//
// Plain JavaScript: on Node 20 the tsx loader registered with --import does not reach
// worker threads (ERR_UNKNOWN_FILE_EXTENSION for a .ts worker).
import { parentPort } from 'node:worker_threads';

/**
 * @typedef {{ id: number, url: string, headers: Record<string, string>, body: string, timeoutMs: number }} Job
 * @typedef {{ id: number, startedAt: number, endedAt: number, status: number | 'refused' | 'reset' | 'timeout', text: string }} Result
 */

parentPort?.on('message', (/** @type {Job} */ job) => {
  void deliver(job).then((result) => parentPort?.postMessage(result));
});

/** @param {Job} job @returns {Promise<Result>} */
async function deliver(job) {
  const startedAt = Date.now();
  try {
    const response = await fetch(job.url, { method: 'POST', headers: job.headers, body: job.body, signal: AbortSignal.timeout(job.timeoutMs) });
    const text = await response.text();
    return { id: job.id, startedAt, endedAt: Date.now(), status: response.status, text };
  } catch (error) {
    const cause = /** @type {{ cause?: { code?: string }, name?: string }} */ (error).cause;
    const name = /** @type {{ name?: string }} */ (error).name;
    const status = name === 'TimeoutError' ? 'timeout' : cause?.code === 'ECONNREFUSED' ? 'refused' : 'reset';
    return { id: job.id, startedAt, endedAt: Date.now(), status, text: '' };
  }
}
