// The README starts with a runnable example: run it (against the source) and check what it prints.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('README', () => {
  it('starts with an example that runs and prints what its comments say', () => {
    const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
    const match = /^# @hardening\/idempotency\n\n```ts\n([\s\S]*?)```/.exec(readme);
    expect(match, 'the README must start with a ts code block').not.toBeNull();
    // A file inside the package resolves `@hardening/idempotency` to the package itself.
    const dir = mkdtempSync(join(packageDir, 'test', '.readme-'));
    try {
      const file = join(dir, 'example.mts');
      writeFileSync(file, match![1]!);
      const run = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@hardening/source', file], { cwd: packageDir, encoding: 'utf8', timeout: 30_000 });
      expect(run.stderr).toBe('');
      expect(run.stdout.trim().split('\n')).toEqual(['reply #1', 'reply #1', '1']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
