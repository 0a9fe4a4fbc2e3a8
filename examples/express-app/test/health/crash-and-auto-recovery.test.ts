// Issue 11: seed 001's process-level crash handlers and seed 004's automatic recovery are
// wired in the app (src/process-handlers.ts, src/health.ts), tested against the app's real
// alert path (SMS to the operator through the fake Twilio) and a real database outage.
import { EventEmitter } from 'node:events';
import { eventually, requirePostgres } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installAppProcessHandlers } from '../../src/process-handlers.js';
import { levels } from '../e2e/support/log-capture.js';
import { adminPhone, startTestApp, type TestApp } from '../e2e/support/test-app.js';

describe('process crash handlers (PGlite)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ label: 'crash' });
  }, 120_000);
  afterAll(async () => app?.close());

  it('an uncaught exception is logged scrubbed, alerted to the operator (PROCESS_CRASH), the app closed, and the process exits 1', async () => {
    const fakeProcess = new EventEmitter();
    const exits: number[] = [];
    let closed = false;
    const uninstall = installAppProcessHandlers(app.ctx, {
      process: fakeProcess,
      exit: (code) => exits.push(code),
      close: () => {
        closed = true;
        return Promise.resolve();
      },
    });
    try {
      const before = app.smsTo(adminPhone).length;
      fakeProcess.emit('uncaughtException', new Error('handler blew up on +15125550142'));
      await eventually(() => exits.length > 0, 10_000);
      expect(exits).toEqual([1]);
      expect(closed).toBe(true);
      expect(app.logs.find('FATAL uncaughtException', levels.error)).toHaveLength(1);
      app.logs.assertNever(['+15125550142', '5125550142']);
      await eventually(() => app.smsTo(adminPhone).length > before, 10_000);
      expect(app.smsTo(adminPhone).at(-1)!.body).toMatch(/crash/i);
    } finally {
      uninstall();
    }
  });

  it('an unhandled rejection exits too (Node’s own default), after the same alert', async () => {
    const fakeProcess = new EventEmitter();
    const exits: number[] = [];
    const uninstall = installAppProcessHandlers(app.ctx, { process: fakeProcess, exit: (code) => exits.push(code), close: async () => {} });
    try {
      fakeProcess.emit('unhandledRejection', new Error('a promise nobody awaited'));
      await eventually(() => exits.length > 0, 10_000);
      expect(exits).toEqual([1]);
      expect(app.logs.find('FATAL unhandledRejection', levels.error)).toHaveLength(1);
    } finally {
      uninstall();
    }
  });
});

const postgresUp = await requirePostgres();

describe.skipIf(!postgresUp)('automatic recovery (PostgreSQL behind a proxy)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      spec: { backend: 'postgres', redis: false },
      storageOptions: { databaseProxy: true },
      label: 'autorecovery',
      overrides: { health: { autoRecovery: { intervalMs: 300, failuresBeforeRecovery: 2 }, recoveryLimits: { cooldownMs: 1000 } } },
    });
  }, 120_000);
  afterAll(async () => app?.close());

  it('a database check that keeps failing runs the database recovery by itself (trigger auto), and stops once it passes', async () => {
    expect(app.ctx.health.recovery.stats().attempts).toBe(0);
    app.storage.proxy!.cut();
    try {
      await eventually(() => app.ctx.health.recovery.stats().recent.some((a) => a.service === 'database' && a.trigger === 'auto'), 20_000, 100);
    } finally {
      app.storage.proxy!.restore();
    }
    // Once the database answers (a recovery or the breaker's probe), no more attempts.
    await eventually(async () => (await app.ctx.health.monitor.report()).checks.find((c) => c.name === 'database')?.status === 'pass', 20_000, 200);
    const settled = app.ctx.health.recovery.stats().attempts;
    await new Promise((r) => setTimeout(r, 1500));
    expect(app.ctx.health.recovery.stats().attempts).toBe(settled);
  });
});
