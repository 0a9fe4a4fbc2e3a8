// What an operator (and a load balancer) sees while the faults run: each instance's
// readiness every second (the load balancer's rotation), its full health report with the
// admin token every two seconds (which checks warn or fail), and the alerts that reached a
// person (Slack alert channel, SMS to ALERT_SMS_TO) from the provider stand-ins' recordings.
// The probes run on a worker thread of their own (probe-worker.mjs): the harness's main
// loop stalls under load, and a probe timed there measured the harness, not the app.
import { Worker } from 'node:worker_threads';
import type { FakeSlack, FakeTwilio } from '@hardening/test-support';
import type { AppInstance } from './cluster.js';

/** One probe of one instance. */
export interface HealthSample {
  readonly at: number;
  readonly instance: string;
  /** `/health/ready`'s status, or `down` when the instance did not answer. */
  readonly ready: number | 'down';
  /** The checks of `/health` that did not pass (`name:status`), when probed this round. */
  readonly notPassing?: readonly string[];
}

/** An alert a person received. */
export interface DeliveredAlert {
  readonly at: number;
  readonly via: 'slack' | 'sms';
  readonly text: string;
}

type WorkerMessage =
  { readonly ready: { readonly instance: string; readonly ready: number | 'down' } } | { readonly sample: HealthSample } | { readonly stopped: true };

/** Polls every instance from a worker thread until stopped. */
export class Observer {
  readonly samples: HealthSample[] = [];
  private readonly lastReady = new Map<string, boolean>();
  private readonly lastAlive = new Map<string, boolean>();
  private worker: Worker | undefined;
  private urls = '';
  private urlWatch: NodeJS.Timeout | undefined;
  private stopped: Promise<void> = Promise.resolve();

  constructor(
    private readonly instances: readonly AppInstance[],
    private readonly adminToken: string,
  ) {}

  /** The load balancer's view: the last readiness probe of `name` passed. */
  isReady(name: string): boolean {
    return this.lastReady.get(name) === true;
  }

  /** The last readiness probe of `name` got an answer (any status): the process is there. */
  isAlive(name: string): boolean {
    return this.lastAlive.get(name) === true;
  }

  start(): void {
    const worker = new Worker(new URL('./probe-worker.mjs', import.meta.url), { workerData: { adminToken: this.adminToken, intervalMs: 1000 } });
    this.worker = worker;
    this.stopped = new Promise((resolve) => {
      worker.on('message', (message: WorkerMessage) => {
        if ('ready' in message) {
          this.lastReady.set(message.ready.instance, message.ready.ready === 200);
          this.lastAlive.set(message.ready.instance, message.ready.ready !== 'down');
        } else if ('sample' in message) this.samples.push(message.sample);
        else resolve();
      });
      worker.once('exit', () => resolve());
    });
    worker.on('error', (error) => console.error('[chaos] the probe worker failed:', error));
    // A restarted instance may listen on another port (EADDRINUSE on a busy machine).
    const sendUrls = () => {
      const urls = JSON.stringify(this.instances.map((i) => ({ name: i.name, url: i.url })));
      if (urls !== this.urls) worker.postMessage({ instances: JSON.parse(urls) as unknown });
      this.urls = urls;
    };
    sendUrls();
    this.urlWatch = setInterval(sendUrls, 500);
  }

  async stop(): Promise<void> {
    clearInterval(this.urlWatch);
    const worker = this.worker;
    if (worker === undefined) return;
    this.worker = undefined;
    worker.postMessage({ stop: true });
    await this.stopped;
    await worker.terminate();
  }
}

/** One line, at most 160 characters, phone numbers masked (a report never holds a full number). */
const line = (text: string) =>
  text
    .replace(/\s+/g, ' ')
    .replace(/\+\d{7,15}/g, (p) => `${p.slice(0, 3)}…${p.slice(-2)}`)
    .slice(0, 160);

/** Alerts delivered to the operator so far: Slack alert-channel posts and SMS to ALERT_SMS_TO. */
export function deliveredAlerts(slack: FakeSlack, twilio: FakeTwilio, alertsChannel: string, adminPhone: string): DeliveredAlert[] {
  return [
    ...slack.messages.filter((m) => m.channel === alertsChannel).map((m) => ({ at: m.request.receivedAt, via: 'slack' as const, text: line(m.text ?? '') })),
    ...twilio.messages.filter((m) => m.to === adminPhone).map((m) => ({ at: m.createdAt.getTime(), via: 'sms' as const, text: line(m.body) })),
  ].sort((a, b) => a.at - b.at);
}
