// The README starts with a runnable example: run it (against the source, on a private
// redis-server) and check that it prints what the README says and exits by itself.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { requireRedis, startPrivateRedis, type PrivateRedis } from '@hardening/test-support';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const redisUp = await requireRedis();

/** Runs a file to its end; resolves with what it printed, or rejects if it does not exit in time. */
function run(file: string, env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@hardening/source', file], { cwd: packageDir, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the README example did not exit within ${timeoutMs} ms; printed: ${stdout}${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe.skipIf(!redisUp)('README', () => {
  let server: PrivateRedis;
  beforeAll(async () => {
    server = await startPrivateRedis(); // the example uses the default key prefix: keep it off the shared server
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('starts with an example that prints what the README says and exits by itself', async () => {
    const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
    const match =
      /^# @hardening\/circuit-breaker\n\n```ts\n([\s\S]*?)```\n\nIt prints `failed: Twilio answered 503` three times, then `refused: twilio_sms is open`/.exec(
        readme,
      );
    expect(match, 'the README must start with the ts example and the sentence saying what it prints').not.toBeNull();
    // A file inside the package resolves `@hardening/circuit-breaker` to the package itself.
    const dir = mkdtempSync(join(packageDir, 'test', '.readme-'));
    try {
      const file = join(dir, 'example.mts');
      writeFileSync(file, match![1]!);
      const result = await run(file, { REDIS_URL: server.url }, 60_000);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout.trim().split('\n')).toEqual([
        'failed: Twilio answered 503',
        'failed: Twilio answered 503',
        'failed: Twilio answered 503',
        'refused: twilio_sms is open',
      ]);
      // close() waited for the open to be stored: other instances would see it.
      const redis = new Redis(server.url);
      try {
        expect(await redis.hget('{hardening:cb:twilio_sms}', 'state')).toBe('open');
      } finally {
        redis.disconnect();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
