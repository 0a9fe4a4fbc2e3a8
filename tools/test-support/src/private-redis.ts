import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from './free-port.js';

/**
 * A redis-server process of the test's own, for outage tests: killing it never
 * disturbs the shared server other tests use.
 */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** Kills the server (SIGKILL) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

/**
 * The process id of the redis-server answering on `port` (from `INFO server`), or undefined
 * while nothing answers.
 */
function serverPid(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    socket.once('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      const pid = /process_id:(\d+)\r\n/.exec(answer);
      if (pid !== null || answer.startsWith('-')) {
        socket.destroy();
        resolve(pid === null ? undefined : Number(pid[1]));
      }
    });
    socket.once('error', () => resolve(undefined));
    socket.once('close', () => resolve(undefined));
  });
}

/**
 * Waits until our own redis-server (`child`) answers on `port`. Why the process id: the port
 * came from `freePort()` and was free a moment ago; another suite running alongside may have
 * taken it since, and a PING alone would then succeed against that suite's server (ours
 * exits with "Address already in use"), and the two suites would share one server.
 */
async function waitForOwnServer(child: ChildProcess, port: number, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new PortTakenError(port);
    const pid = await serverPid(port);
    if (pid === child.pid) return;
    if (Date.now() > until) throw new Error(`private redis-server on port ${port} did not answer`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Our redis-server exited while starting: most likely its port was taken meanwhile. */
class PortTakenError extends Error {
  constructor(port: number) {
    super(`private redis-server on port ${port} exited while starting (port taken?)`);
  }
}

/**
 * Starts a private redis-server on a free port (no persistence). A port taken between
 * `freePort()` and the server's bind (by another suite running alongside) is retried with
 * another port, a few times.
 *
 * @throws when `redis-server` is not installed, or it never starts.
 * @example
 * const server = await startPrivateRedis();
 * const redis = new Redis(server.url);
 * await server.stop(); // an outage
 * await server.start(); // back, on the same port
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  let port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const spawned = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    child = spawned;
    const failed = new Promise<never>((_, reject) => spawned.once('error', reject));
    await Promise.race([waitForOwnServer(spawned, port, 15_000), failed]);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      break;
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt === 5) throw error;
      port = await freePort();
    }
  }
  return { port, url: `redis://127.0.0.1:${port}`, start, stop };
}
