// The package loaded twice, as ESM and as CJS, in a plain Node process: guards and the
// process-wide service must agree, and both builds must run. Runs against the build
// (`pnpm test` builds first).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const dist = new URL('../dist/', import.meta.url);
const built = existsSync(new URL('index.cjs', dist)) && existsSync(new URL('index.js', dist));

describe('dual ESM/CJS loading', () => {
  it('has a build to test (run `pnpm build` first)', () => {
    expect(built, 'packages/alerting/dist is missing: run `pnpm build`').toBe(true);
  });

  it.runIf(built)('guards recognise errors from the other copy; one process-wide service; both builds work', async () => {
    const fixture = fileURLToPath(new URL('./dual-package.fixture.mjs', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [fixture]);
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({
      twoCopies: true,
      guardAcross: true,
      sameDefaultService: true,
      cjsWorks: true,
      esmWorks: true,
    });
  });
});
