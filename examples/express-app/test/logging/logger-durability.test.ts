// The app's logger (src/context.ts, createLogger) writes each line before the call returns:
// a process killed right after logging (SIGKILL, the OOM killer) has lost none of its lines.
// The chaos harness counts a killed instance's lines, and an operator reads them after the
// incident. pino's default stdout writer is asynchronous and loses the lines still queued.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const appDir = fileURLToPath(new URL('../..', import.meta.url));

describe('createLogger', () => {
  it('has every line on stdout when the process is SIGKILLed right after logging it', async () => {
    const script = [
      "const { createLogger } = await import('./src/context.ts');",
      "const logger = createLogger('info');",
      "for (let i = 0; i < 500; i++) logger.info({ i }, 'line');",
      "process.kill(process.pid, 'SIGKILL');",
    ].join('\n');
    const child = spawn(process.execPath, ['--conditions=@hardening/source', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: appDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    expect({ code, signal, stderr }).toEqual({ code: null, signal: 'SIGKILL', stderr: '' });
    const lines = stdout.split('\n').filter((line) => line.length > 0);
    expect(lines).toHaveLength(500);
    expect(JSON.parse(lines[499]!)).toMatchObject({ level: 30, i: 499, msg: 'line' });
  }, 60_000);
});
