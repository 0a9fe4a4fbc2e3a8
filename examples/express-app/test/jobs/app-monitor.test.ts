// The app's runtime monitor as the scheduler wires it (5-minute rounds, jitter, the real
// alert service), on a migrated PGlite database, under a simulated clock: stuck clients,
// PAYMENT_BLOCK, the number pool, backlogs, dead letters and the data invariants. The clock
// and timers are injected (not vitest's global fakes): PGlite arms its statement timeout
// with the global timers, and the rounds' queries are real I/O.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { addNumbers } from '../../src/domain/number-pool.js';
import { activatePayment, completeTestCall } from '../../src/domain/onboarding.js';
import { createAppMonitor, type AppMonitor, type AppMonitorOptions } from '../../src/jobs/app-monitor.js';
import { freshDatabase } from '../support/databases.js';
import { recordingAlerts } from './support/alerts.js';
import { captureLogger } from './support/logs.js';
import { VirtualTime } from './support/virtual-time.js';

const minute = 60_000;
const hour = 60 * minute;
const systemNumber = '+15550000000';
const start = Date.parse('2026-03-01T09:00:00Z');
let phoneSeq = 0;
const ownerPhone = () => `+1555222${String(1000 + ++phoneSeq)}`;
const poolPhone = () => `+1555999${String(1000 + ++phoneSeq)}`;

describe('runtime monitor (PGlite, simulated clock)', () => {
  let db: Database;
  beforeAll(async () => {
    db = await freshDatabase('pglite', 'monitor');
  });
  afterAll(async () => {
    await db?.close();
  });

  let monitor: AppMonitor | undefined;
  let time: VirtualTime;
  beforeEach(async () => {
    await db.prisma.$executeRawUnsafe('TRUNCATE "pool_numbers", "clients", "outbound_messages", "inbound_events", "webhook_deliveries" CASCADE');
    time = new VirtualTime(start);
  });
  afterEach(async () => {
    await monitor?.stop();
    monitor = undefined;
  });

  function newMonitor(alerts: ReturnType<typeof recordingAlerts>['alerts'], extra: Partial<AppMonitorOptions> = {}) {
    const logger = captureLogger();
    // jitter: min(30 s, 5 min / 10) * 0.5 = 15 s after each 5-minute mark
    monitor = createAppMonitor({ db: db.prisma, alerts, logger, systemNumber, random: () => 0.5, clock: time, timers: time, ...extra });
    return { monitor, logger };
  }

  async function setup(extra: Partial<AppMonitorOptions> = {}) {
    const recorded = recordingAlerts({ clock: time });
    await addNumbers(db.prisma, [systemNumber], 'SYSTEM');
    return { ...recorded, ...newMonitor(recorded.alerts, extra) };
  }

  /** Moves the simulated clock `ms` ahead, letting each round finish. */
  const runFor = (ms: number) => time.advance(ms, () => monitor?.settled() ?? Promise.resolve());

  async function clientIn(state: 'S5_CONFIRM_LIVE' | 'S9_TEST_CALL' | 'COMPLETE', enteredAt: number, withNumber = true) {
    const client = await db.prisma.client.create({
      data: {
        phone: ownerPhone(),
        businessName: 'Ace Plumbing',
        onboardingState: state,
        stateEnteredAt: new Date(enteredAt),
        paymentActive: state !== 'S5_CONFIRM_LIVE',
      },
    });
    if (withNumber)
      await db.prisma.poolNumber.create({ data: { phoneNumber: poolPhone(), status: 'ASSIGNED', clientId: client.id, assignedAt: new Date(enteredAt) } });
    return client;
  }

  it('a client stuck in S9 (terminal) is alerted within one interval, then not again for 6 h; the mark holds across a restart', async () => {
    const { alerts, alertsOf, monitor: first } = await setup();
    await addNumbers(db.prisma, [poolPhone(), poolPhone(), poolPhone()]); // keep POOL_LOW quiet
    // The 24 h limit passes at an arbitrary moment: 7 min 13 s from now.
    const client = await clientIn('S9_TEST_CALL', start - 24 * hour + 7 * minute + 13_000);
    const conditionAt = start + 7 * minute + 13_000;
    await first.start();

    await runFor(12 * minute + 30_000);
    const stuck = alertsOf('STUCK_CLIENT');
    expect(stuck).toHaveLength(1);
    expect(stuck[0]!.message).toMatchObject({ severity: 'HIGH', resourceId: client.id });
    expect(stuck[0]!.message.message).toMatch(/terminal state/);
    expect(stuck[0]!.at - conditionAt).toBeGreaterThan(0);
    expect(stuck[0]!.at - conditionAt).toBeLessThanOrEqual(5 * minute + 30_000); // one interval plus the jitter
    const marked = (await db.prisma.client.findUniqueOrThrow({ where: { id: client.id } })).stuckDetectedAt;
    expect(marked?.getTime()).toBe(stuck[0]!.at);

    // A restart (a new monitor: no memory of its own) within the window: the stored mark holds.
    await first.stop();
    const { monitor: restarted } = newMonitor(alerts);
    await restarted.start();
    await runFor(6 * hour - 20 * minute);
    expect(alertsOf('STUCK_CLIENT')).toHaveLength(1);
    expect((await db.prisma.client.findUniqueOrThrow({ where: { id: client.id } })).stuckDetectedAt?.getTime()).toBe(marked?.getTime());
    expect((await alerts.getAlertStats({ hours: 24 })).byType.STUCK_CLIENT?.suppressed ?? 0).toBe(0); // not even raised again

    await alerts.close();
  }, 90_000);

  it('the re-alert comes once the 6 h window is over, while the client is still stuck', async () => {
    const { alertsOf, monitor, alerts } = await setup();
    await addNumbers(db.prisma, [poolPhone(), poolPhone(), poolPhone()]);
    await clientIn('S9_TEST_CALL', start - 25 * hour);
    await monitor.start();
    await runFor(5 * minute + 30_000);
    expect(alertsOf('STUCK_CLIENT')).toHaveLength(1);
    const firstAt = alertsOf('STUCK_CLIENT')[0]!.at;
    await runFor(6 * hour - 10 * minute);
    expect(alertsOf('STUCK_CLIENT')).toHaveLength(1);
    await runFor(15 * minute);
    const both = alertsOf('STUCK_CLIENT');
    expect(both).toHaveLength(2);
    expect(both[1]!.at - firstAt).toBeGreaterThanOrEqual(6 * hour);
    expect(both[1]!.at - firstAt).toBeLessThanOrEqual(6 * hour + 5 * minute + 30_000);
    await alerts.close();
  });

  it('PAYMENT_BLOCK after 2 h in S5, once; resolved when the payment arrives', async () => {
    const { alertsOf, resolvesOf, monitor, alerts } = await setup();
    await addNumbers(db.prisma, [poolPhone(), poolPhone(), poolPhone()]);
    const client = await clientIn('S5_CONFIRM_LIVE', start);
    await monitor.start();
    await runFor(hour + 55 * minute);
    expect(alertsOf('PAYMENT_BLOCK')).toHaveLength(0);
    await runFor(10 * minute);
    expect(alertsOf('PAYMENT_BLOCK').map((a) => a.message.resourceId)).toEqual([client.id]);
    await runFor(hour);
    expect(alertsOf('PAYMENT_BLOCK')).toHaveLength(1);
    expect(alertsOf('STUCK_CLIENT')).toHaveLength(0);

    await db.prisma.$transaction((tx) => activatePayment(tx, client.id, systemNumber));
    await runFor(5 * minute);
    expect(resolvesOf('PAYMENT_BLOCK', client.id)).toHaveLength(1);
    expect((await db.prisma.client.findUniqueOrThrow({ where: { id: client.id } })).stuckDetectedAt).toBeNull();
    expect(alertsOf('STUCK_CLIENT')).toHaveLength(0); // S9 is watched afresh from its own start
    await alerts.close();
  });

  it('a stuck S9 client whose test call then completes: STUCK_CLIENT resolved', async () => {
    const { alertsOf, resolvesOf, monitor, alerts } = await setup();
    await addNumbers(db.prisma, [poolPhone(), poolPhone(), poolPhone()]);
    const client = await clientIn('S9_TEST_CALL', start - 30 * hour);
    await monitor.start();
    await runFor(5 * minute + 30_000);
    expect(alertsOf('STUCK_CLIENT', client.id)).toHaveLength(1);
    const waiting = await db.prisma.client.findUniqueOrThrow({ where: { id: client.id } });
    await db.prisma.$transaction((tx) => completeTestCall(tx, waiting, systemNumber));
    await runFor(5 * minute);
    expect(resolvesOf('STUCK_CLIENT', client.id)).toHaveLength(1);
    expect((await db.prisma.client.findUniqueOrThrow({ where: { id: client.id } })).stuckDetectedAt).toBeNull();
    await runFor(hour);
    expect(alertsOf('STUCK_CLIENT')).toHaveLength(1);
    await alerts.close();
  });

  it('pool level: POOL_LOW (MEDIUM) below the threshold, HIGH at 0, resolved when restocked', async () => {
    const { alertsOf, resolvesOf, monitor, alerts } = await setup({ poolLowThreshold: 3 });
    const numbers = [poolPhone(), poolPhone(), poolPhone(), poolPhone()];
    await addNumbers(db.prisma, numbers);
    await monitor.start();
    await runFor(5 * minute + 30_000);
    expect(alertsOf('POOL_LOW')).toHaveLength(0);

    const take = async (phoneNumber: string) => {
      const client = await db.prisma.client.create({ data: { phone: ownerPhone(), onboardingState: 'S4_NUMBER_ALLOCATED' } });
      await db.prisma.poolNumber.update({ where: { phoneNumber }, data: { status: 'ASSIGNED', clientId: client.id } });
    };
    await take(numbers[0]!);
    await take(numbers[1]!);
    await runFor(5 * minute);
    expect(alertsOf('POOL_LOW').map((a) => [a.message.severity, a.message.resourceId])).toEqual([['MEDIUM', 'pool:low']]);
    expect(alertsOf('POOL_LOW')[0]!.message.title).toBe('Number pool low: 2 left');

    await take(numbers[2]!);
    await take(numbers[3]!);
    await runFor(5 * minute);
    expect(alertsOf('POOL_LOW').map((a) => [a.message.severity, a.message.resourceId])).toEqual([
      ['MEDIUM', 'pool:low'],
      ['HIGH', 'pool:empty'],
    ]);
    await runFor(30 * minute);
    expect(alertsOf('POOL_LOW')).toHaveLength(2); // not repeated every round

    await addNumbers(db.prisma, [poolPhone(), poolPhone(), poolPhone()]);
    await runFor(5 * minute);
    expect(
      resolvesOf('POOL_LOW')
        .map((a) => a.message.resourceId)
        .sort(),
    ).toEqual(['pool:empty', 'pool:low']);
    await alerts.close();
  });

  it('invariants: checked at start-up and every round (INVARIANT_VIOLATION), resolved once they hold again', async () => {
    const { alertsOf, resolvesOf, monitor, alerts, logger } = await setup();
    await addNumbers(db.prisma, [poolPhone(), poolPhone(), poolPhone()]);
    const orphan = await db.prisma.poolNumber.create({ data: { phoneNumber: poolPhone(), status: 'ASSIGNED' } });

    const violations = await monitor.start();
    expect(violations.map((v) => v.invariant)).toEqual(['assigned numbers have a client']);
    expect(alertsOf('INVARIANT_VIOLATION').map((a) => [a.message.severity, a.message.resourceId])).toEqual([['HIGH', 'assigned numbers have a client']]);
    expect(alertsOf('INVARIANT_VIOLATION')[0]!.message.message).toContain(orphan.id);
    expect(logger.lines.some((l) => l.level === 'error' && l.msg?.startsWith('INVARIANT VIOLATION'))).toBe(true);

    // Broken while running: a client past S4 without a number, the system number assigned.
    const lost = await clientIn('S5_CONFIRM_LIVE', start, false);
    await db.prisma.poolNumber.update({ where: { phoneNumber: systemNumber }, data: { status: 'ASSIGNED', clientId: lost.id } });
    await db.prisma.poolNumber.update({ where: { id: orphan.id }, data: { status: 'AVAILABLE' } });
    await runFor(5 * minute + 30_000);
    const raised = alertsOf('INVARIANT_VIOLATION').map((a) => a.message.resourceId);
    expect(raised).toEqual(['assigned numbers have a client', 'the system number is never assigned']);
    expect(resolvesOf('INVARIANT_VIOLATION').map((a) => a.message.resourceId)).toEqual(['assigned numbers have a client']);

    await db.prisma.poolNumber.update({ where: { phoneNumber: systemNumber }, data: { status: 'AVAILABLE', clientId: null } });
    await runFor(5 * minute);
    expect(alertsOf('INVARIANT_VIOLATION').map((a) => a.message.resourceId)).toContain('clients from S4 on have a number');
    await db.prisma.poolNumber.create({ data: { phoneNumber: poolPhone(), status: 'ASSIGNED', clientId: lost.id } });
    await runFor(5 * minute);
    expect(
      resolvesOf('INVARIANT_VIOLATION')
        .map((a) => a.message.resourceId)
        .sort(),
    ).toEqual(['assigned numbers have a client', 'clients from S4 on have a number', 'the system number is never assigned']);
    await alerts.close();
  });

  it('outbox and inbox backlogs and dead letters are raised, and resolved when cleared', async () => {
    const spool = { size: 0 };
    const { alertsOf, resolvesOf, monitor, alerts } = await setup({ spoolSize: () => Promise.resolve(spool.size) });
    await addNumbers(db.prisma, [poolPhone(), poolPhone(), poolPhone()]);
    const old = new Date(start - 20 * minute);
    await db.prisma.outboundMessage.create({ data: { toPhone: '+15553330001', fromPhone: systemNumber, body: 'hi', purpose: 'reply', createdAt: old } });
    await db.prisma.outboundMessage.create({
      data: { toPhone: '+15553330002', fromPhone: systemNumber, body: 'hi', purpose: 'reply', status: 'dead_letter', createdAt: old },
    });
    await db.prisma.outboundMessage.create({
      data: { toPhone: '+15553330003', fromPhone: systemNumber, body: 'fresh', purpose: 'reply', createdAt: new Date(start) },
    });
    const stuckInbound = await db.prisma.inboundEvent.create({ data: { messageSid: 'SM0001', payload: {}, status: 'failed', createdAt: old } });
    spool.size = 2;
    await monitor.start();
    await runFor(5 * minute + 30_000);
    expect(alertsOf('OUTBOX_BACKLOG').map((a) => [a.message.severity, a.message.title])).toEqual([['MEDIUM', '1 SMS waiting to be sent']]);
    expect(alertsOf('DEAD_LETTERS').map((a) => a.message.resourceId)).toEqual(['outbox']);
    expect(alertsOf('INBOX_BACKLOG').map((a) => [a.message.severity, a.message.title])).toEqual([['HIGH', '1 inbound SMS unprocessed']]);
    expect(alertsOf('INBOX_SPOOLED')).toHaveLength(1);
    expect(JSON.stringify(alertsOf('DEAD_LETTERS'))).not.toContain('+15553330002');

    await db.prisma.outboundMessage.updateMany({ where: { status: 'pending' }, data: { status: 'sent' } });
    await db.prisma.inboundEvent.update({ where: { id: stuckInbound.id }, data: { status: 'processed' } });
    spool.size = 0;
    await runFor(5 * minute);
    expect(resolvesOf('OUTBOX_BACKLOG')).toHaveLength(1);
    expect(resolvesOf('INBOX_BACKLOG')).toHaveLength(1);
    expect(resolvesOf('INBOX_SPOOLED')).toHaveLength(1);
    expect(resolvesOf('DEAD_LETTERS')).toHaveLength(0); // the dead letter still counts for 24 h
    await alerts.close();
  });

  it('a failing check never stops the others; three failures in a row raise MONITOR_CHECK_FAILED once', async () => {
    const { alertsOf, monitor, alerts, logger } = await setup({
      spoolSize: () => Promise.reject(new Error('Redis is down')),
    });
    await addNumbers(db.prisma, [poolPhone()]);
    await monitor.start();
    await runFor(20 * minute + 30_000);
    expect(alertsOf('POOL_LOW')).toHaveLength(1); // the pool check ran every round
    expect(alertsOf('MONITOR_CHECK_FAILED').map((a) => a.message.resourceId)).toEqual(['inbox']);
    expect(logger.lines.filter((l) => l.msg === 'app-monitor: check "inbox" failed: Redis is down')).toHaveLength(4);
    await alerts.close();
  });
});
