// The README's first example, kept as examples/server.ts: the README shows that file as it
// is, and the file runs (against the source and a real PostgreSQL): ready, health details
// behind the token, and a SIGTERM that drains and exits 0.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { databaseUrl, freePort, readmeFirstExample, requirePostgres } from '@hardening/test-support';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const exampleFile = join(packageDir, 'examples', 'server.ts');
const up = await requirePostgres();

describe('README', () => {
  it('starts with examples/server.ts, word for word', () => {
    expect(readmeFirstExample(packageDir)).toBe(readFileSync(exampleFile, 'utf8'));
  });

  it.skipIf(!up)(
    'whose server becomes ready, reports its checks, and shuts down cleanly on SIGTERM',
    async () => {
      const port = await freePort();
      const token = 'readme-test-token-0123456789';
      const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@hardening/source', exampleFile], {
        cwd: packageDir,
        env: { PATH: process.env.PATH ?? '', PORT: String(port), DATABASE_URL: databaseUrl, HEALTH_ADMIN_TOKEN: token },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      try {
        // Generous: a busy machine boots tsx slowly; this is not a speed test.
        await vi.waitFor(() => expect(output).toContain(`curl http://127.0.0.1:${port}/health`), { timeout: 45_000, interval: 100 });
        const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
        expect(ready.status).toBe(200);
        expect(((await ready.json()) as { status: string }).status).toBe('pass');
        const details = (await (await fetch(`http://127.0.0.1:${port}/health`, { headers: { Authorization: `Bearer ${token}` } })).json()) as {
          serviceId: string;
          checks: Record<string, unknown>;
        };
        expect(details.serviceId).toBe('sms-gateway');
        expect(Object.keys(details.checks)).toContain('postgres:responseTime');
        child.kill('SIGTERM');
        expect(await exited, output).toBe(0);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
    90_000,
  );
});
