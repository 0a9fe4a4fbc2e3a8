// src/main.ts in its own process, as operators run it: for the tests that signal it (SIGTERM)
// and watch it exit. Shared by the shutdown tests so each states only its own environment.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually, freePort } from '@hardening/test-support';
import { testAdminToken } from './http-app.js';

const appDir = fileURLToPath(new URL('../..', import.meta.url));

/** A running main.ts: its process, URL, everything it printed so far, and its exit. */
export interface MainProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** stdout and stderr, interleaved as they arrived. */
  output(): string;
  /** Resolves with the exit code and the time (Date.now()) the process exited. */
  readonly exited: Promise<{ readonly code: number | null; readonly at: number }>;
  /** SIGKILLs the process if it is still running (for afterAll). */
  kill(): void;
}

/**
 * Starts main.ts on a free port with development defaults (info logs, the test admin token,
 * no Redis, no DATABASE_URL) overlaid by `env`, and waits until `/health/ready` answers 200.
 * A process that is not ready within `readyWithinMs` is killed and the wait throws.
 *
 * @example
 * const app = await startMainProcess({ PGLITE_DATA_DIR: 'memory://' }, 60_000);
 * app.child.kill('SIGTERM');
 * expect((await app.exited).code).toBe(0);
 */
export async function startMainProcess(env: Record<string, string>, readyWithinMs: number): Promise<MainProcess> {
  // A free port can be taken by another test file's process before main.ts listens on it:
  // main.ts then says it could not listen and exits 1, and a new port is tried.
  for (let attempt = 1; ; attempt++) {
    const app = spawnMainProcess(env, await freePort());
    try {
      await eventually(
        async () => (await fetch(`${app.url}/health/ready`).catch(() => undefined))?.status === 200 || app.child.exitCode !== null,
        readyWithinMs,
        100,
      );
    } catch (error) {
      app.kill();
      throw new Error(`main.ts was not ready within ${readyWithinMs} ms; it printed:\n${app.output().slice(-3000)}`, { cause: error });
    }
    if (app.child.exitCode === null) return app;
    if (attempt === 3 || !app.output().includes('EADDRINUSE')) {
      throw new Error(`main.ts exited with ${app.child.exitCode} before it was ready; it printed:\n${app.output().slice(-3000)}`);
    }
  }
}

/**
 * Starts main.ts on `port` with the development defaults of {@link startMainProcess},
 * without waiting for anything.
 *
 * @example
 * const app = spawnMainProcess({ PGLITE_DATA_DIR: 'memory://' }, takenPort);
 * expect((await app.exited).code).toBe(1);
 */
export function spawnMainProcess(env: Record<string, string>, port: number): MainProcess {
  let output = '';
  const child = spawn(process.execPath, ['--conditions=@hardening/source', '--import', 'tsx', 'src/main.ts'], {
    cwd: appDir,
    env: {
      ...process.env,
      NODE_ENV: 'development',
      PORT: String(port),
      LOG_LEVEL: 'info',
      ADMIN_TOKEN: testAdminToken,
      REDIS_URL: '',
      DATABASE_URL: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return { child, url: `http://127.0.0.1:${port}`, output: () => output, exited, kill };
}
