// The README starts with a runnable example, kept as examples/readme.ts: the README shows
// that file as it is, and the file runs (against the source) and prints what its comments say.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readmeFirstExample } from '@hardening/test-support';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const exampleFile = join(packageDir, 'examples', 'readme.ts');

describe('README', () => {
  it('starts with examples/readme.ts, word for word', () => {
    expect(readFileSync(join(packageDir, 'README.md'), 'utf8')).toMatch(/^# @hardening\/idempotency\n\n```ts\n/);
    expect(readmeFirstExample(packageDir)).toBe(readFileSync(exampleFile, 'utf8'));
  });

  it('whose example runs and prints what its comments say', () => {
    // A file inside the package resolves `@hardening/idempotency` to the package itself.
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@hardening/source', exampleFile], {
      cwd: packageDir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split('\n')).toEqual(['reply #1', 'reply #1', '1']);
  });
});
