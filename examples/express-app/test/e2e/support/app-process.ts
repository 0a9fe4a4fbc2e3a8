// One app instance as a separate Node process (for tests that need real process
// isolation: two instances of one deployment behind a load balancer). Started with
// `forkApp(env)`; the parent drives it over HTTP and asks it over IPC to run an outbox
// round (what its scheduler loop would do), report its logs, or stop.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { ask, forkTs, serveRequests, waitReady } from '@hardening/test-support';
import { loadConfig } from '../../../src/config/config.js';
import { buildContext } from '../../../src/context.js';
import { startJobRunner } from '../../../src/jobs/job-runner.js';
import { OutboxWorker, type OutboxRound } from '../../../src/jobs/outbox-worker.js';
import { createApp } from '../../../src/server.js';
import { captureLogs } from './log-capture.js';

/** A forked app instance. */
export interface AppProcess {
  readonly child: ChildProcess;
  /** Where it listens, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** One outbox round in the child. */
  drainOnce(): Promise<OutboxRound>;
  /** The child's log lines (JSON). */
  logs(): Promise<string[]>;
  stop(): Promise<void>;
}

/** Forks this file as an app instance with `env` (the app's variables) and waits until it listens. */
export async function forkApp(env: Record<string, string>): Promise<AppProcess> {
  const child = forkTs(new URL(import.meta.url), { ...env, APP_PROCESS_CHILD: '1' });
  await waitReady(child, 30_000);
  const { port } = await ask<{ port: number }>(child, { cmd: 'port' });
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    drainOnce: async () => (await ask<{ round: OutboxRound }>(child, { cmd: 'drain' }, 30_000)).round,
    logs: async () => (await ask<{ lines: string[] }>(child, { cmd: 'logs' })).lines,
    stop: async () => {
      await ask(child, { cmd: 'stop' }, 15_000).catch(() => undefined);
      if (child.exitCode === null) child.kill();
    },
  };
}

async function runChild(): Promise<void> {
  const logs = captureLogs('info');
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const config = loadConfig({ ...process.env, PORT: String(port) });
  const built = await buildContext(config, { logger: logs.logger, ...(process.env.SPOOL_FILE ? { spoolFile: process.env.SPOOL_FILE } : {}) });
  const { ctx } = built;
  startJobRunner(ctx);
  server.on('request', createApp(ctx));
  const publicBase = (config.env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${port}`).replace(/\/+$/, '');
  const worker = new OutboxWorker({
    db: ctx.db.prisma,
    sender: ctx.sms,
    safeCall: ctx.safeCall,
    logger: ctx.logger,
    alert: ctx.alert,
    deliverability: ctx.deliverability,
    statusCallbackUrl: (id) => `${publicBase}/api/twilio/message-status?outboxId=${encodeURIComponent(id)}`,
  });
  serveRequests(async (message) => {
    switch (message.cmd) {
      case 'port':
        return { port };
      case 'drain':
        return { round: await worker.runOnce() };
      case 'logs':
        return { lines: logs.lines };
      case 'stop':
        server.closeAllConnections();
        server.close();
        await built.close();
        setTimeout(() => process.exit(0), 50);
        return {};
      default:
        throw new Error(`unknown command ${String(message.cmd)}`);
    }
  });
}

if (process.env.APP_PROCESS_CHILD === '1' && process.send !== undefined) {
  await runChild();
}
