// The package loaded twice, as ESM and as CJS, in a plain Node process (as happens when an
// app and one of its dependencies resolve different entry points): guards and the breaker
// registry must still agree. Runs against the build (`pnpm test` builds first).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const dist = new URL('../dist/', import.meta.url);
const built = existsSync(new URL('index.cjs', dist)) && existsSync(new URL('index.js', dist));

describe('dual ESM/CJS loading', () => {
  it('has a build to test (run `pnpm build` first)', () => {
    expect(built, 'packages/core/dist is missing: run `pnpm build`').toBe(true);
  });

  it.runIf(built)('guards recognise errors from the other copy, and both copies share one breaker per name', async () => {
    const fixture = fileURLToPath(new URL('./dual-package.fixture.mjs', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [fixture]);
    expect(JSON.parse(stdout)).toEqual({
      twoCopies: true,
      instanceofAcross: false, // why the guards exist
      guardAcross: true,
      sameRegistry: true,
      breakerSharedAcross: true,
    });
  });
});
