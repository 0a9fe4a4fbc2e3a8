// main.ts as operators run it, in its own process: on SIGTERM readiness turns 503 at once while
// the listener keeps serving for the drain delay, then the queue, Redis and the database close
// and the process exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, freePort } from '@hardening/test-support';
import { testAdminToken } from '../support/http-app.js';

const appDir = fileURLToPath(new URL('../..', import.meta.url));

describe('graceful shutdown of main.ts', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child?.exitCode === null) child.kill('SIGKILL');
  });

  it('fails readiness at once on SIGTERM, drains, closes everything and exits 0', async () => {
    const port = await freePort();
    let output = '';
    child = spawn(process.execPath, ['--conditions=@hardening/source', '--import', 'tsx', 'src/main.ts'], {
      cwd: appDir,
      env: {
        ...process.env,
        NODE_ENV: 'development',
        PORT: String(port),
        PGLITE_DATA_DIR: 'memory://',
        LOG_LEVEL: 'info',
        ADMIN_TOKEN: testAdminToken,
        SHUTDOWN_DRAIN_DELAY_MS: '1500',
        REDIS_URL: '',
        DATABASE_URL: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}`;

    await eventually(async () => (await fetch(`${url}/health/ready`).catch(() => undefined))?.status === 200, 60_000, 100);
    expect(output).toContain('health: start-up complete');

    child.kill('SIGTERM');
    await eventually(async () => (await fetch(`${url}/health/ready`))?.status === 503, 1000, 20);
    const draining = await fetch(`${url}/health/ready`);
    expect(((await draining.json()) as { output: string }).output).toBe('shutting down');
    expect((await fetch(`${url}/health/live`)).status).toBe(200); // still serving while draining

    expect(await exited).toBe(0);
    expect(output).toMatch(/graceful shutdown: queue, alerts, Redis, database closed/);
    expect(output).toMatch(/exiting with 0/);
    await expect(fetch(`${url}/health/live`)).rejects.toThrow();
  }, 90_000);
});
