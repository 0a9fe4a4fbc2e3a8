// What an operator (and a load balancer) sees while the faults run: each instance's
// readiness every second (the load balancer's rotation), its full health report with the
// admin token every two seconds (which checks warn or fail), and the alerts that reached a
// person (Slack alert channel, SMS to ALERT_SMS_TO) from the provider stand-ins' recordings.
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

interface HealthBody {
  status?: string;
  checks?: Record<string, Array<{ status?: string }>>;
}

/** Polls every instance until stopped. */
export class Observer {
  readonly samples: HealthSample[] = [];
  private readonly lastReady = new Map<string, boolean>();
  private readonly lastAlive = new Map<string, boolean>();
  private timer: NodeJS.Timeout | undefined;
  private round = 0;
  private running: Promise<void> = Promise.resolve();

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
    const tick = () => {
      this.running = this.probeAll().finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, 1000);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async probeAll(): Promise<void> {
    this.round++;
    const full = this.round % 2 === 0;
    await Promise.all(
      this.instances.map(async (instance) => {
        const at = Date.now();
        const ready = await fetch(`${instance.url}/health/ready`, { signal: AbortSignal.timeout(1500) }).then(
          (r) => r.status,
          () => 'down' as const,
        );
        this.lastReady.set(instance.name, ready === 200);
        this.lastAlive.set(instance.name, ready !== 'down');
        let notPassing: string[] | undefined;
        if (full && ready !== 'down') {
          notPassing = await fetch(`${instance.url}/health`, { headers: { Authorization: `Bearer ${this.adminToken}` }, signal: AbortSignal.timeout(3000) })
            .then((r) => r.json() as Promise<HealthBody>)
            .then((body) =>
              Object.entries(body.checks ?? {}).flatMap(([name, results]) => results.filter((c) => c.status !== 'pass').map((c) => `${name}:${c.status}`)),
            )
            .catch(() => ['health:unanswered']);
        }
        this.samples.push({ at, instance: instance.name, ready, ...(notPassing === undefined ? {} : { notPassing }) });
      }),
    );
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
