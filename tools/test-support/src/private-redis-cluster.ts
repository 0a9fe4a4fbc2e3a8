import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/** A Redis Cluster of the test's own (masters only, no persistence). */
export interface PrivateRedisCluster {
  /** Ports of the masters, e.g. for `new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })))`. */
  readonly ports: readonly number[];
  /** Kills every node and removes their files. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A free port whose cluster bus port (port + 10000, which Redis Cluster also listens on)
 * is free and in range too: ephemeral ports above 55535 would put it past 65535.
 */
async function freeClusterPort(taken: readonly number[]): Promise<number> {
  for (let tries = 0; tries < 100; tries++) {
    const port = await freePort();
    if (port <= 55_535 && !taken.includes(port) && (await portIsFree(port + 10_000))) return port;
  }
  throw new Error('no free port pair for a Redis Cluster node');
}

function clusterState(port: number): string {
  const info = spawnSync('redis-cli', ['-p', String(port), 'CLUSTER', 'INFO'], { encoding: 'utf8' });
  return /cluster_state:(\w+)/.exec(info.stdout ?? '')?.[1] ?? 'unknown';
}

/**
 * Starts a Redis Cluster of `masters` redis-server processes on free ports and waits until
 * every slot is served.
 *
 * @throws when `redis-server` or `redis-cli` is not installed, or the cluster does not form.
 */
export async function startPrivateRedisCluster(masters = 3): Promise<PrivateRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freeClusterPort(ports);
      ports.push(port);
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--cluster-enabled', 'yes'];
      args.push('--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir);
      children.push(spawn('redis-server', args, { stdio: 'ignore' }));
    }
    for (const port of ports) {
      for (let tries = 0; spawnSync('redis-cli', ['-p', String(port), 'PING'], { encoding: 'utf8' }).stdout?.trim() !== 'PONG'; tries++) {
        if (tries > 100) throw new Error(`cluster node on port ${port} did not start`);
        await sleep(50);
      }
    }
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8',
    });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    for (let tries = 0; !ports.every((port) => clusterState(port) === 'ok'); tries++) {
      if (tries > 200) throw new Error('Redis Cluster did not reach cluster_state:ok');
      await sleep(50);
    }
    return { ports, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
