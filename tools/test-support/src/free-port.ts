import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';

/**
 * A TCP port that was free a moment ago on 127.0.0.1, below the OS's ephemeral range where it
 * can tell (see {@link listenOnStablePort}): a port of that range can become the source port
 * of any process's outgoing connection before the caller listens on it.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.unref();
  const port = await listenOnStablePort(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The lowest port the OS hands out as the source port of an outgoing connection (Linux's
 * `ip_local_port_range`), or undefined where it cannot be read.
 */
function ephemeralPortFloor(): number | undefined {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 11_000 ? low : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Listens on a port below the OS's ephemeral range, so that `restore()` can take it again
 * after `cut()` gave it up: a port of that range can meanwhile become the source port of any
 * process's outgoing connection, and the proxy could not listen on it again (a CI run failed
 * with an uncaught EADDRINUSE so, its tests two files at once). Random ports from 10000 up to
 * the range are tried; where the range is unknown, any free port.
 */
export async function listenOnStablePort(server: Server): Promise<number> {
  const floor = ephemeralPortFloor();
  for (let attempt = 0; floor !== undefined && attempt < 50; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * (floor - 10_000));
    if (await tryListen(server, port)) return port;
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Listens on `port`; false when it is taken (or not ours to take). */
function tryListen(server: Server, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') resolve(false);
      else reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(true);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, '127.0.0.1');
  });
}
