import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ask, eventually, forkTs, waitReady } from '@hardening/test-support';

const fixture = new URL('./fixtures/shutdown-server.ts', import.meta.url);

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('graceful shutdown under load (a real child process and a real SIGTERM)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'health-shutdown-'));
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('200 requests in flight when SIGTERM arrives all complete; readiness refuses new traffic; exit code 0', async () => {
    const cleanupLog = join(dir, 'cleanups.log');
    const logFile = join(dir, 'service.log');
    child = forkTs(fixture, { WORK_MS: '4000', DRAIN_MS: '500', CLEANUP_LOG: cleanupLog, LOG_FILE: logFile });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child!.once('exit', (code, signal) => resolve({ code, signal })));
    await waitReady(child, 30_000);
    const { port } = await ask<{ port: number }>(child, { cmd: 'port' });
    expect((await get(port, '/health/ready')).status).toBe(200);

    const requests = Array.from({ length: 200 }, () => get(port, '/work'));
    await eventually(async () => (await ask<{ inFlight: number }>(child!, { cmd: 'inflight' })).inFlight === 200, 10_000, 20);

    child.kill('SIGTERM');
    // Readiness turns 503 at once, while the listener still accepts during the drain.
    await eventually(async () => (await get(port, '/health/ready')).status === 503, 2_000, 10);
    const ready = await get(port, '/health/ready');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ status: 'fail', output: 'shutting down' });
    expect((await ask<{ inFlight: number; completed: number }>(child, { cmd: 'inflight' })).completed).toBe(0);

    // After the drain the listener is closed while the 200 are still running: new connections are refused.
    await eventually(
      () =>
        get(port, '/health/live').then(
          () => false,
          (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
        ),
      5_000,
      25,
    );

    const replies = await Promise.all(requests);
    expect(replies.filter((r) => r.status === 200)).toHaveLength(200);
    expect(replies.every((r) => JSON.parse(r.body).ok === true)).toBe(true);

    const { code, signal } = await exited;
    expect(signal).toBeNull();
    expect(code).toBe(0);

    // Cleanups ran in order, after every request had completed.
    expect(readFileSync(cleanupLog, 'utf8').trim().split('\n')).toEqual([
      'queues inFlight=0 completed=200',
      'redis inFlight=0 completed=200',
      'prisma inFlight=0 completed=200',
    ]);
    const logs = readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; inFlight?: number });
    expect(logs.find((l) => l.msg.startsWith('graceful shutdown: SIGTERM'))?.inFlight).toBe(200);
    expect(logs.at(-1)?.msg).toBe('graceful shutdown: complete; exiting with 0');
  }, 60_000);
});
