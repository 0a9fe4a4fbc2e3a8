// The app under test: N instances of `src/main.ts` as real child processes (the app's own
// start-up, scheduler, graceful shutdown), run from sources with the `@hardening/source`
// condition like `pnpm demo` and `pnpm run doctor`. The harness can SIGKILL, SIGTERM and
// restart each one, and records every exit so a crash is told apart from a kill.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@hardening/test-support';

/** The app package's folder (where `src/main.ts` lives). */
export const appDir = fileURLToPath(new URL('..', import.meta.url));

/** Every process started, so none outlives the harness (even when it gives up). */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** How a process ended. */
export interface ExitRecord {
  readonly instance: string;
  readonly at: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The harness sent the signal (a kill or a stop), as opposed to a crash. */
  readonly expected: boolean;
}

/** One app instance (its port survives restarts). */
export class AppInstance {
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private expectingExit = false;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    public port: number,
    private readonly env: Record<string, string>,
    private readonly logDir: string,
    private readonly exits: ExitRecord[],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** True while the process runs (it may not be ready yet). */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Starts the process and waits until `/health/ready` answers 200. A process that exits
   * during start-up is started again on another port, twice at most: on a shared machine
   * the free port it was given can be taken before it listens (EADDRINUSE).
   */
  async start(readyTimeoutMs = 180_000): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startOnce(readyTimeoutMs);
        return;
      } catch (error) {
        if (this.running || attempt >= 3) throw error;
        const logTail = (await readFile(join(this.logDir, `${this.name}.log`), 'utf8').catch(() => '')).trim().split('\n').slice(-3).join('\n');
        console.warn(
          `[chaos] ${this.name} exited during start-up (attempt ${attempt}); starting it again on another port. Its last lines:\n${logTail.slice(0, 1500)}`,
        );
        this.port = await freePort();
      }
    }
  }

  private async startOnce(readyTimeoutMs: number): Promise<void> {
    await mkdir(this.logDir, { recursive: true });
    this.log = createWriteStream(join(this.logDir, `${this.name}.log`), { flags: 'a' });
    const child = spawn(
      process.execPath,
      [
        ...(process.env.CHAOS_NODE_ARGS ?? '')
          .split(' ')
          .filter(Boolean)
          .map((a) => a.replace('{name}', this.name)),
        '--conditions=@hardening/source',
        '--import',
        'tsx',
        'src/main.ts',
      ],
      {
        cwd: appDir,
        env: { ...process.env, ...this.env, PORT: String(this.port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    children.add(child);
    this.expectingExit = false;
    child.stdout.pipe(this.log, { end: false });
    child.stderr.pipe(this.log, { end: false });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        children.delete(child);
        this.exits.push({ instance: this.name, at: Date.now(), code, signal, expected: this.expectingExit });
        resolve();
      });
    });
    const until = Date.now() + readyTimeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited during start-up (see ${join(this.logDir, `${this.name}.log`)})`);
      const ok = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return;
      if (Date.now() > until) throw new Error(`${this.name} not ready within ${readyTimeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** SIGKILL: no shutdown of any kind. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.expectingExit = true;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then waits for the app's graceful shutdown to finish (SIGKILL after `timeoutMs`). */
  async terminate(timeoutMs = 40_000): Promise<'graceful' | 'forced'> {
    if (!this.running) return 'graceful';
    this.expectingExit = true;
    this.child!.kill('SIGTERM');
    const done = await Promise.race([this.exited.then(() => 'graceful' as const), new Promise<'forced'>((r) => setTimeout(() => r('forced'), timeoutMs))]);
    if (done === 'forced') {
      this.child!.kill('SIGKILL');
      await this.exited;
    }
    return done;
  }

  /** Ends the process at the end of the run (SIGTERM, then SIGKILL). */
  async stop(): Promise<void> {
    await this.terminate(15_000);
    this.log?.end();
  }
}

/** Starts `count` instances with `env` on ports of their own, all at once. */
export async function startCluster(count: number, env: Record<string, string>, logDir: string, exits: ExitRecord[]): Promise<AppInstance[]> {
  const instances: AppInstance[] = [];
  for (let i = 1; i <= count; i++) {
    const name = `app-${i}`;
    // Each instance keeps its local spool file in a folder of its own.
    instances.push(new AppInstance(name, await freePort(), { ...env, PGLITE_DATA_DIR: join(logDir, name, 'pglite') }, logDir, exits));
  }
  await Promise.all(instances.map((instance) => instance.start()));
  return instances;
}
