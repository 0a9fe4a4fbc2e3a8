import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAlertService } from '../alert-service.js';
import { captureLogger } from '../../test/support/capture-logger.js';
import { recordingSink } from '../../test/support/recording-sink.js';
import { installProcessHandlers } from './process-handlers.js';

function setup(extra: Partial<Parameters<typeof installProcessHandlers>[0]> = {}) {
  const target = new EventEmitter();
  const sms = recordingSink('sms');
  const logger = captureLogger();
  const alerts = createAlertService({ sinks: [sms], logger: captureLogger(), maintenanceIntervalMs: false, env: {} });
  const captured: unknown[] = [];
  const sentry = { captureException: (e: unknown) => (captured.push(e), 'id'), flush: () => Promise.resolve(true) };
  const exits: number[] = [];
  let exited!: () => void;
  const exitedOnce = new Promise<void>((resolve) => (exited = resolve));
  const uninstall = installProcessHandlers({
    alerts,
    sentry,
    logger,
    process: target,
    instance: 'web-1',
    exit: (code) => {
      exits.push(code);
      exited();
    },
    ...extra,
  });
  return { target, sms, logger, captured, exits, exitedOnce, uninstall };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('installProcessHandlers', () => {
  it('uncaughtException: logs (scrubbed), reports, alerts PROCESS_CRASH, runs beforeExit, exits 1', async () => {
    const order: string[] = [];
    const { target, sms, logger, captured, exits, exitedOnce } = setup({ beforeExit: () => void order.push('beforeExit') });
    const error = new TypeError('cannot read properties of undefined (customer +15551234567)');
    target.emit('uncaughtException', error);
    target.emit('uncaughtException', new Error('second'));
    await exitedOnce;
    expect(exits).toEqual([1]);
    expect(captured).toEqual([error]);
    expect(order).toEqual(['beforeExit']);
    expect(sms.received[0]).toMatchObject({ type: 'PROCESS_CRASH', severity: 'HIGH', resourceId: 'web-1', title: 'Process crashed: TypeError' });
    expect(sms.received[0]!.message).toBe('uncaughtException on web-1: cannot read properties of undefined (customer +1********67)');
    expect(logger.lines[0]).toMatchObject({
      level: 'error',
      msg: 'FATAL uncaughtException: cannot read properties of undefined (customer +1********67); reporting, alerting and exiting',
    });
    expect(logger.lines.some((l) => l.msg?.includes('while already handling a fatal error'))).toBe(true);
  });

  it('exits within the timeout even when alerting hangs', async () => {
    const target = new EventEmitter();
    const exits: number[] = [];
    let exited!: () => void;
    const done = new Promise<void>((resolve) => (exited = resolve));
    vi.useFakeTimers();
    installProcessHandlers({
      process: target,
      logger: captureLogger(),
      alerts: { sendCriticalAlert: () => new Promise(() => {}), resolveAlert: () => new Promise(() => {}) },
      timeoutMs: 200,
      exit: (code) => {
        exits.push(code);
        exited();
      },
    });
    target.emit('unhandledRejection', new Error('boom'));
    await vi.advanceTimersByTimeAsync(199);
    expect(exits).toEqual([]); // alerting hangs: the exit waits for the timeout, not less
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(exits).toEqual([1]);
  });

  it('unhandledRejection without exiting when configured so; uninstall removes the handlers', async () => {
    vi.useFakeTimers();
    const { target, exits, captured, uninstall } = setup({ exitOnUnhandledRejection: false });
    target.emit('unhandledRejection', 'plain reason');
    await vi.advanceTimersByTimeAsync(60_000); // past any exit timeout
    expect(exits).toEqual([]);
    expect(captured).toEqual(['plain reason']);
    uninstall();
    expect(target.listenerCount('uncaughtException')).toBe(0);
    expect(target.listenerCount('unhandledRejection')).toBe(0);
  });
});
