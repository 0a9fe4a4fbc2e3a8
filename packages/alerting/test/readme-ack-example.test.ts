// The README's acknowledgement / escalation / inhibition example is kept as
// examples/ack-escalation-inhibition.ts: the README shows that file as it is, and the file
// runs (against the source) and prints what its comments say.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const exampleFile = join(packageDir, 'examples', 'ack-escalation-inhibition.ts');

describe('README: acknowledgement, escalation policies, inhibition rules', () => {
  it('shows examples/ack-escalation-inhibition.ts word for word', () => {
    expect(readFileSync(join(packageDir, 'README.md'), 'utf8')).toContain(`\`\`\`ts\n${readFileSync(exampleFile, 'utf8')}\`\`\``);
  });

  it('whose example runs and prints what its comments say', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@hardening/source', exampleFile], {
      cwd: packageDir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const printed = run.stdout.split('\n').filter((line) => line !== '' && !line.startsWith('{'));
    expect(printed).toEqual([
      'sms: [alert] Database down',
      'slack: [alert] Database down',
      'inhibited',
      'slack: [escalation] Database down',
      'acknowledged',
      "[ 'DB_DOWN by alice via api' ]",
    ]);
  });
});
