// The observer's probes, on a thread that does nothing else: each instance's readiness
// every second (the load balancer's rotation) and its full health report with the admin
// token every other round. Timed here rather than on the harness's main loop, which stalls
// (it runs the PostgreSQL proxy, the provider stand-ins and the traffic), so "time to
// recover" and "seconds with no backend" are the app's figures, not the harness's.
//
// Plain JavaScript: on Node 20 the tsx loader registered with --import does not reach
// worker threads. Messages in: { instances: [{ name, url }] } (at start and after a
// restart moved a port), { stop: true }. Messages out: { ready } per readiness probe (for the load
// balancer), { sample } once the round's full report is in, { stopped: true } at the end.
import { parentPort, workerData } from 'node:worker_threads';

/** @type {{ adminToken: string, intervalMs: number }} */
const { adminToken, intervalMs } = workerData;
/** @type {Array<{ name: string, url: string }>} */
let instances = [];
let round = 0;
let stopping = false;
/** @type {NodeJS.Timeout | undefined} */
let timer;
let running = Promise.resolve();

parentPort?.on('message', (/** @type {{ instances?: Array<{ name: string, url: string }>, stop?: boolean }} */ message) => {
  if (message.instances !== undefined) instances = message.instances;
  if (message.stop === true) {
    stopping = true;
    clearTimeout(timer);
    void running.then(() => parentPort?.postMessage({ stopped: true }));
  }
});

const tick = () => {
  running = probeAll().finally(() => {
    if (!stopping) timer = setTimeout(tick, intervalMs);
  });
};
timer = setTimeout(tick, 0);

async function probeAll() {
  round++;
  const full = round % 2 === 0;
  // One time for the whole round: the samples of one round are judged together (which
  // instances were ready at that moment). Each instance's own Date.now() could straddle a
  // second, and a second holding only the other instances' samples read as "none ready".
  const at = Date.now();
  await Promise.all(
    instances.map(async (instance) => {
      const ready = await fetch(`${instance.url}/health/ready`, { signal: AbortSignal.timeout(1500) }).then(
        (r) => r.status,
        () => 'down',
      );
      // The load balancer's view at once; the sample follows with the full report.
      parentPort?.postMessage({ ready: { instance: instance.name, ready } });
      /** @type {string[] | undefined} */
      let notPassing;
      if (full && ready !== 'down') {
        notPassing = await fetch(`${instance.url}/health`, { headers: { Authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(3000) })
          .then((r) => r.json())
          .then((/** @type {{ checks?: Record<string, Array<{ status?: string }>> }} */ body) =>
            Object.entries(body.checks ?? {}).flatMap(([name, results]) => results.filter((c) => c.status !== 'pass').map((c) => `${name}:${c.status}`)),
          )
          .catch(() => ['health:unanswered']);
      }
      parentPort?.postMessage({ sample: { at, instance: instance.name, ready, ...(notPassing === undefined ? {} : { notPassing }) } });
    }),
  );
}
