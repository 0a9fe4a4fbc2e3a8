// `pnpm start` + `pnpm sim`, as a newcomer runs them: the real entry point (src/main.ts) in
// its own process in development (no provider configured: webhook secrets generated for
// the run, SMS printed by the stand-in, development numbers in the pool), and the
// simulator signing each request as the provider does. A whole onboarding conversation,
// from "Hi" to a live business whose missed calls are texted back.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { scrubText } from '@hardening/core';
import { readDevSession } from '../../src/dev/dev-session.js';
import { developmentPoolNumbers } from '../../src/dev/development-numbers.js';
import { texts } from '../../src/domain/messages.js';
import { runSim, type SimResult } from '../../scripts/sim/simulator.js';

const appDir = fileURLToPath(new URL('../..', import.meta.url));
const owner = '+15550001111';
const customer = '+15550002222';

/** Only what a developer's shell would have: no NODE_ENV=test, no test database. */
function env(dir: string): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, PORT: '0', PGLITE_DATA_DIR: join(dir, 'pglite'), LOG_LEVEL: 'info' };
}

function run(args: string[], dir: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--conditions=@hardening/source', '--import', 'tsx', ...args], {
      cwd: appDir,
      env: env(dir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('pnpm start, then pnpm sim: a full onboarding conversation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-e2e-'));
  const sessionFile = join(dir, 'dev-session.json');
  let app: ChildProcess;
  let appOutput = '';
  const lines: string[] = [];
  const sim = (...argv: string[]): Promise<SimResult> => runSim([...argv, '--session', sessionFile], (line) => lines.push(line));

  beforeAll(async () => {
    app = spawn(process.execPath, ['--conditions=@hardening/source', '--import', 'tsx', 'src/main.ts'], {
      cwd: appDir,
      env: env(dir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    app.stdout!.on('data', (chunk: Buffer) => (appOutput += chunk.toString()));
    app.stderr!.on('data', (chunk: Buffer) => (appOutput += chunk.toString()));
    // Generous: the app boots in seconds, but this machine may be busy.
    await vi.waitFor(() => expect(existsSync(sessionFile), appOutput).toBe(true), { timeout: 85_000, interval: 200 });
    // The session file is written just before the summary is printed; the pipe may deliver
    // the summary a moment after the file is seen.
    await vi.waitFor(() => expect(appOutput).toContain('ready at '), { timeout: 10_000, interval: 100 });
  }, 100_000);

  afterAll(async () => {
    if (app.exitCode === null) {
      app.kill('SIGINT');
      await new Promise((resolve) => app.once('exit', resolve));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a short start-up summary: URL, generated admin token, what is simulated, what to try', () => {
    const session = readDevSession(sessionFile)!;
    expect(appOutput).toContain(`ready at ${session.url}`);
    expect(appOutput).toContain(session.adminToken);
    expect(appOutput).toContain('Twilio     simulated');
    expect(appOutput).toContain('pnpm sim sms +15550001111 "Hi"');
    expect(appOutput).toContain(`stocked with ${developmentPoolNumbers.length} development numbers`);
  });

  it('the CLI signs an SMS as Twilio does and prints the reply', async () => {
    const { code, output } = await run(['scripts/sim.ts', 'sms', owner, 'Hi', '--session', sessionFile], dir);
    expect(output).toContain(`<- 200 reply: "${texts.welcome}"`);
    expect(code).toBe(0);
  }, 60_000);

  it('goes from the questions to a live business, then texts back a missed call', async () => {
    expect((await sim('sms', owner, "It's Dave's Plumbing")).reply).toEqual([texts.askServiceArea("Dave's Plumbing")]);
    const allocated = await sim('sms', owner, 'We serve Springfield');
    // The first development number: the pool was stocked at start, so no POOL_EMPTY.
    expect(allocated.reply).toEqual([texts.numberAllocated(developmentPoolNumbers[0])]);
    const pay = await sim('sms', owner, 'YES');
    const link = pay.reply[0]!;
    expect(link).toContain('client_reference_id=');
    expect(lines.at(-1)).toMatch(/^ {3}next: pay with `pnpm sim stripe [0-9a-f-]+`$/);

    const paid = await sim('stripe', link);
    expect(paid.status).toBe(200);
    // The admin API masks numbers in bodies too.
    expect(paid.sent.map((s) => s.body)).toEqual([scrubText(texts.testCall(developmentPoolNumbers[0]))]);
    expect(paid.sent[0]!.status).toBe('sent'); // by the stand-in: printed, not sent to Twilio

    const tested = await sim('call', owner, developmentPoolNumbers[0], 'completed');
    expect(tested.status).toBe(200);
    expect(tested.sent.map((s) => s.body)).toEqual([texts.live("Dave's Plumbing")]);

    const missed = await sim('call', customer, developmentPoolNumbers[0]);
    expect(missed.sent.map((s) => s.body)).toEqual([texts.missedCall("Dave's Plumbing")]);
    expect(missed.sent[0]!.to).not.toContain('2222'); // the admin API masks numbers
    expect(lines).toContain(`   sent: SMS to ${missed.sent[0]!.to} (missed_call, sent): "${texts.missedCall("Dave's Plumbing")}"`);
    // What a real deployment would have sent is visible in the app's own output too.
    await vi.waitFor(() => expect(appOutput).toContain('would send SMS'), { timeout: 10_000, interval: 100 });
  }, 120_000);

  it('a Slack message is signed with the v0 HMAC and acknowledged', async () => {
    expect((await sim('slack', 'Burst pipe at 12 Elm St', '--wait', '0')).status).toBe(200);
  });

  it('says what to do when no app is running, instead of a stack trace', async () => {
    await expect(runSim(['sms', owner, 'Hi', '--session', join(dir, 'nothing-here.json')], () => {})).rejects.toThrow(/start it with `pnpm start`/);
  });
});
