// Helpers shared by this package's tests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '@hardening/core';
import type { Timers } from '@hardening/core';

/** A clock the test moves by hand. */
export function fakeClock(start = Date.UTC(2025, 0, 1)) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/**
 * Timers the test drives by hand: `advance(ms)` moves a virtual clock and runs, in order,
 * every timer that falls due (timers they schedule included). Nothing waits real time.
 */
export function manualTimers() {
  interface Pending {
    readonly id: number;
    readonly due: number;
    readonly ms: number;
    readonly fn: () => void;
  }
  let now = 0;
  let nextId = 0;
  const pending: Pending[] = [];
  /** Delays of the timers that ran, in order. */
  const fired: number[] = [];
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      const timer = { id: ++nextId, due: now + ms, ms, fn };
      pending.push(timer);
      return timer.id;
    },
    clearTimeout: (handle) => {
      const i = pending.findIndex((t) => t.id === handle);
      if (i >= 0) pending.splice(i, 1);
    },
  };
  return {
    timers,
    fired,
    /** Delays of the timers not yet run or cleared. */
    pendingDelays: () => pending.map((t) => t.ms),
    now: () => now,
    advance(ms: number): void {
      const until = now + ms;
      for (;;) {
        const due = pending.filter((t) => t.due <= until).sort((a, b) => a.due - b.due || a.id - b.id)[0];
        if (due === undefined) break;
        pending.splice(pending.indexOf(due), 1);
        now = due.due;
        fired.push(due.ms);
        due.fn();
      }
      now = until;
    },
  };
}

/** A promise with its resolve/reject exposed. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** A logger that keeps every line, to assert on what operators would see. */
export function captureLogger(): Logger & { lines: LogLine[]; text(): string } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (obj: object, msg?: string) => {
    lines.push({ level, obj: obj as Record<string, unknown>, msg });
  };
  const logger = {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    text: () => lines.map((l) => `${l.level} ${l.msg ?? ''} ${JSON.stringify(l.obj)}`).join('\n'),
  };
  return logger;
}

/** Starts a node:http server on a free loopback port. */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Waits `ms` of real time. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
