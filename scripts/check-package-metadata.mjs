// Publish-readiness of every package, beyond what publint and attw check: the metadata npm
// provenance and licence scanners read (repository with directory, homepage, bugs, license),
// a LICENSE in the packed tarball that matches the license field, and peer ranges bounded
// to the majors we test. Run by `pnpm check:packages` (and so by .ci/run).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const problems = [];
for (const name of readdirSync(join(root, 'packages'))) {
  const dir = join('packages', name);
  const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  if (pkg.private) continue;
  const say = (problem) => problems.push(`${pkg.name}: ${problem}`);
  if (pkg.license !== 'MIT') say(`license is ${pkg.license}, expected MIT`);
  if (pkg.repository?.type !== 'git' || typeof pkg.repository?.url !== 'string') say('repository { type: "git", url } missing');
  if (pkg.repository?.directory !== dir) say(`repository.directory is ${pkg.repository?.directory}, expected ${dir}`);
  if (typeof pkg.homepage !== 'string') say('homepage missing');
  if (typeof pkg.bugs?.url !== 'string') say('bugs.url missing');
  for (const [peer, range] of Object.entries(pkg.peerDependencies ?? {})) {
    if (!/<\s*\d/.test(range)) say(`peer ${peer} "${range}" has no upper bound (bound it to the majors tested)`);
  }
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: join(root, dir), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
  );
  const files = packed[0].files.map((f) => f.path);
  if (!files.includes('LICENSE')) say('the tarball has no LICENSE');
  else if (!readFileSync(join(root, dir, 'LICENSE'), 'utf8').startsWith('MIT License')) say('LICENSE is not the MIT licence the license field names');
}
if (problems.length > 0) {
  console.error(`Package metadata problems:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('package metadata: every package has repository, homepage, bugs, MIT LICENSE in its tarball, bounded peers');
