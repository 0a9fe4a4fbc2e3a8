// main.ts as operators run it, in its own process: on SIGTERM readiness turns 503 at once while
// the listener keeps serving for the drain delay, then the queue, Redis and the database close
// and the process exits 0.
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '@hardening/test-support';
import { startMainProcess, type MainProcess } from '../support/main-process.js';

describe('graceful shutdown of main.ts', () => {
  let app: MainProcess | undefined;
  afterAll(() => app?.kill());

  it('fails readiness at once on SIGTERM, drains, closes everything and exits 0', async () => {
    app = await startMainProcess({ PGLITE_DATA_DIR: 'memory://', SHUTDOWN_DRAIN_DELAY_MS: '1500' }, 60_000);
    const { url } = app;
    expect(app.output()).toContain('health: start-up complete');

    app.child.kill('SIGTERM');
    await eventually(async () => (await fetch(`${url}/health/ready`))?.status === 503, 1000, 20);
    const draining = await fetch(`${url}/health/ready`);
    expect(((await draining.json()) as { output: string }).output).toBe('shutting down');
    expect((await fetch(`${url}/health/live`)).status).toBe(200); // still serving while draining

    expect((await app.exited).code).toBe(0);
    expect(app.output()).toMatch(/graceful shutdown: queue, alerts, Redis, database closed/);
    expect(app.output()).toMatch(/exiting with 0/);
    await expect(fetch(`${url}/health/live`)).rejects.toThrow();
  }, 90_000);
});
