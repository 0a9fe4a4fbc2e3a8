// The faults of issue 11 and the scenarios that combine them. Each fault has a start (from
// the scenario's start) and a window; the harness records when it really began and ended.
import type { FakeHttpServer, FakeTwilio, FakeTwilioMessage, PrivateRedis, TcpProxy } from '@hardening/test-support';
import type { AppInstance } from './cluster.js';

/** The kinds of fault. */
export type FaultKind = 'redis_killed' | 'postgres_hung' | 'providers_500' | 'instance_sigkill' | 'instance_sigterm' | 'sender_blocked';

/** A fault in a scenario's plan. */
export interface FaultPlan {
  readonly kind: FaultKind;
  /** From the scenario's start. */
  readonly atMs: number;
  /** How long the fault lasts (for a killed instance: until it is started again). */
  readonly windowMs: number;
  /** For instance faults: which instance (index). */
  readonly instance?: number;
  /** For `sender_blocked`: the carrier's error code (30007 carrier filtering by default). */
  readonly code?: number;
}

/** A fault as it happened. */
export interface FaultWindow {
  readonly kind: FaultKind;
  readonly target: string;
  readonly start: number;
  end: number;
}

/** A scenario: its faults and how long traffic runs. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly faults: readonly FaultPlan[];
  readonly trafficMs: number;
}

/** What the faults act on. */
export interface FaultTargets {
  readonly redis: PrivateRedis;
  readonly postgresProxy: TcpProxy;
  /** The provider stand-ins that answer 500 during `providers_500`. */
  readonly providers: readonly FakeHttpServer[];
  readonly instances: readonly AppInstance[];
  /** The Twilio stand-in, whose carrier blocks a sender during `sender_blocked`. */
  readonly twilio: FakeTwilio;
  /** The number `sender_blocked` blocks (a live business's number: the system number carries the pages). */
  readonly blockedSender: string;
  /** How long after the block clears the carrier may wait for the halted sender's probe (then gives up: the judge says so). */
  readonly probeWaitMs: number;
  /** Posts a message's status callback to the app, signed as Twilio does; true when the app took it (2xx). */
  readonly postReceipt: (message: FakeTwilioMessage, status: string, errorCode?: number) => Promise<boolean>;
  /** Whether the app holds the blocked sender halted (its database, as the admin API shows it). */
  readonly senderHalted: () => Promise<boolean>;
}

/**
 * The scenarios, each fault alone then all combined. `scale` shortens every window and
 * traffic period (quick mode for development); the committed report uses scale 1, the
 * issue's windows: Redis killed 20 s and restarted empty, PostgreSQL hung 15 s, providers
 * answering 500 for 60 s, one instance SIGKILLed, one SIGTERMed.
 */
export function scenarios(scale: number): Scenario[] {
  const s = (ms: number) => Math.round(ms * scale);
  const sec = (ms: number) => `${Math.round(s(ms) / 100) / 10} s`;
  // Traffic before the first fault: enough for a baseline of answers on every instance.
  const lead = s(3000);
  // Full-rate traffic after the last fault (then a trickle of 1 event/s runs through the
  // drain, so recovery is still observed under traffic): 6 s, down from 10 s, for the run's
  // 10-minute budget.
  const tail = s(6000);
  return [
    {
      name: 'redis-killed',
      description: `Redis killed for ${sec(20_000)}, restarted empty`,
      faults: [{ kind: 'redis_killed', atMs: lead, windowMs: s(20_000) }],
      trafficMs: lead + s(20_000) + tail,
    },
    {
      name: 'postgres-hung',
      description: `PostgreSQL hung for ${sec(15_000)} (TCP proxy forwards nothing)`,
      faults: [{ kind: 'postgres_hung', atMs: lead, windowMs: s(15_000) }],
      trafficMs: lead + s(15_000) + tail,
    },
    {
      name: 'providers-500',
      description: `Twilio and Slack answer 500 for ${sec(60_000)}`,
      faults: [{ kind: 'providers_500', atMs: lead, windowMs: s(60_000) }],
      trafficMs: lead + s(60_000) + tail,
    },
    {
      name: 'instance-sigkill',
      description: `one instance SIGKILLed, restarted ${sec(10_000)} later`,
      faults: [{ kind: 'instance_sigkill', atMs: lead, windowMs: s(10_000), instance: 0 }],
      trafficMs: lead + s(10_000) + tail,
    },
    {
      name: 'instance-sigterm',
      description: `one instance SIGTERMed (graceful shutdown), restarted ${sec(5000)} after it exits`,
      faults: [{ kind: 'instance_sigterm', atMs: lead, windowMs: s(5000), instance: 1 }],
      trafficMs: lead + s(15_000) + tail,
    },
    {
      name: 'combined',
      description: `all of the above overlapping: providers 500 for ${sec(60_000)}; Redis killed ${sec(20_000)}; an instance SIGKILLed; PostgreSQL hung ${sec(15_000)}; another instance SIGTERMed`,
      faults: [
        { kind: 'providers_500', atMs: lead, windowMs: s(60_000) },
        { kind: 'redis_killed', atMs: lead + s(3000), windowMs: s(20_000) },
        { kind: 'instance_sigkill', atMs: lead + s(15_000), windowMs: s(10_000), instance: 1 },
        { kind: 'postgres_hung', atMs: lead + s(28_000), windowMs: s(15_000) },
        { kind: 'instance_sigterm', atMs: lead + s(45_000), windowMs: s(5000), instance: 2 },
      ],
      trafficMs: lead + s(60_000) + tail,
    },
    {
      name: 'carrier-blocks-sender',
      description: `the carrier blocks a business's sender for ${sec(120_000)} (every SMS from it accepted, then undelivered with 30007); a recipient texts STOP during the block`,
      faults: [{ kind: 'sender_blocked', atMs: lead, windowMs: s(120_000), code: 30007 }],
      trafficMs: lead + s(120_000) + tail,
    },
  ];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Switches the provider stand-ins to 500 (while `on()`), through their fault hook. */
export function providerOutageSwitch(providers: readonly FakeHttpServer[]): { on(): void; off(): void } {
  let failing = false;
  for (const provider of providers) provider.fail({ times: Number.MAX_SAFE_INTEGER, status: 500, match: () => failing });
  return {
    on: () => void (failing = true),
    off: () => void (failing = false),
  };
}

/**
 * Runs one fault: waits for its start, applies it, waits its window, heals it. Resolves
 * once healed (a restarted instance is ready again). Pushes its real window to `windows`.
 */
export async function runFault(
  plan: FaultPlan,
  targets: FaultTargets,
  outage: { on(): void; off(): void },
  scenarioStart: number,
  windows: FaultWindow[],
): Promise<void> {
  await sleep(Math.max(0, scenarioStart + plan.atMs - Date.now()));
  const instance = plan.instance === undefined ? undefined : targets.instances[plan.instance];
  const window: FaultWindow = { kind: plan.kind, target: instance?.name ?? plan.kind.split('_')[0]!, start: Date.now(), end: 0 };
  windows.push(window);
  switch (plan.kind) {
    case 'redis_killed':
      await targets.redis.stop();
      await sleep(plan.windowMs);
      await targets.redis.start(); // no persistence: empty
      break;
    case 'postgres_hung':
      targets.postgresProxy.hang();
      await sleep(plan.windowMs);
      targets.postgresProxy.restore();
      break;
    case 'providers_500':
      outage.on();
      await sleep(plan.windowMs);
      outage.off();
      break;
    case 'instance_sigkill':
      await instance!.kill();
      await sleep(plan.windowMs);
      window.end = Date.now();
      await instance!.start();
      return;
    case 'sender_blocked': {
      // The stand-in records the carrier's verdict; the harness posts the receipts (their
      // callback URL is the public one, reached through the load balancer).
      const posted = new Set<string>();
      let blocking = true;
      const receipts = (async () => {
        while (blocking) {
          await postRefusals(targets, window.start, posted);
          await sleep(500);
        }
      })();
      targets.twilio.blockSender(targets.blockedSender, { code: plan.code ?? 30007, status: 'undelivered', callback: false });
      await sleep(plan.windowMs);
      targets.twilio.unblockSender(targets.blockedSender);
      window.end = Date.now();
      blocking = false;
      await receipts;
      await postRefusals(targets, window.start, posted);
      await deliverProbe(targets, window.end);
      return;
    }
    case 'instance_sigterm':
      await instance!.terminate();
      await sleep(plan.windowMs);
      window.end = Date.now();
      await instance!.start();
      return;
  }
  window.end = Date.now();
}

/** Posts the receipt of every message from the blocked sender the carrier refused since `since` (once each). */
async function postRefusals(targets: FaultTargets, since: number, posted: Set<string>): Promise<void> {
  const refused = targets.twilio.messages.filter(
    (m) => m.from === targets.blockedSender && m.createdAt.getTime() >= since && m.status === 'undelivered' && !posted.has(m.sid),
  );
  for (const message of refused) {
    posted.add(message.sid);
    await targets.postReceipt(message, 'undelivered', message.errorCode);
  }
}

/**
 * The carrier after a block: every message from the sender is delivered and its receipt
 * posted, as Twilio would (the stand-in posts no receipts of its own), until the app no
 * longer holds the sender halted (its probe got through), or `probeWaitMs` (the judge then
 * finds it still halted).
 */
async function deliverProbe(targets: FaultTargets, since: number): Promise<void> {
  const until = Date.now() + targets.probeWaitMs;
  const posted = new Set<string>();
  while (Date.now() < until) {
    const waiting = targets.twilio.messages.filter(
      (m) => m.from === targets.blockedSender && m.createdAt.getTime() >= since && m.status !== 'undelivered' && !posted.has(m.sid),
    );
    for (const message of waiting) {
      targets.twilio.setStatus(message.sid, 'delivered');
      if (await targets.postReceipt(message, 'delivered')) posted.add(message.sid);
    }
    if (posted.size > 0 && !(await targets.senderHalted())) return;
    await sleep(500);
  }
}
