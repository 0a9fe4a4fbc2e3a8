import { connect, createServer, type Socket } from 'node:net';
import { listenOnStablePort } from './free-port.js';

/**
 * A TCP proxy in front of a real server, for outage tests: `cut()` resets every
 * connection and stops listening, so new connections are refused (ECONNREFUSED) as by a
 * server that went down; `hang()` accepts connections but forwards nothing (a server that
 * stopped answering); `slow(delay)` forwards every chunk from the client after `delay` ms
 * (a number, or a function drawn per chunk; order is kept), a slow server or network;
 * (a function gets the chunk: a test can hold back one kind of statement only);
 * `hangAfter(match)` forwards until a chunk from the client matches, forwards that chunk,
 * then hangs as `hang()` does: the server runs the statement, and its answer never comes
 * (a database that stopped answering with a statement on the wire);
 * `restore()` listens and forwards again without delay, on the same port.
 */
export interface TcpProxy {
  readonly port: number;
  readonly url: (template: string) => string;
  cut(): void;
  hang(): void;
  slow(delayMs: number | ((chunk: Buffer) => number)): void;
  hangAfter(match: (chunk: Buffer) => boolean): void;
  restore(): void;
  close(): Promise<void>;
}

/**
 * Sees every byte the proxy forwards, for benchmarks that count protocol messages
 * (PostgreSQL round trips) without touching the client or the server.
 */
export interface TcpProxyTap {
  /** A new connection; returns the per-connection observer of both directions. */
  connection(): {
    /** Bytes from the client to the server. */
    toServer(chunk: Buffer): void;
    /** Bytes from the server to the client. */
    toClient(chunk: Buffer): void;
  };
}

/**
 * Starts a proxy on a free port that forwards to `targetHost:targetPort`; `options.tap`
 * sees what it forwards.
 */
export async function startTcpProxy(targetHost: string, targetPort: number, options: { readonly tap?: TcpProxyTap } = {}): Promise<TcpProxy> {
  let mode: 'forward' | 'cut' | 'hang' = 'forward';
  let delay: ((chunk: Buffer) => number) | undefined;
  let hangTrigger: ((chunk: Buffer) => boolean) | undefined;
  const pairs = new Set<[Socket, Socket | undefined]>();
  const server = createServer((client) => {
    if (mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    const pair: [Socket, Socket | undefined] = [client, undefined];
    pairs.add(pair);
    client.on('error', () => {});
    client.on('close', () => {
      pair[1]?.destroy();
      pairs.delete(pair);
    });
    if (mode === 'hang') return;
    const upstream = connect({ host: targetHost, port: targetPort });
    pair[1] = upstream;
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    if (options.tap !== undefined) {
      const observer = options.tap.connection();
      client.on('data', (chunk: Buffer) => observer.toServer(chunk));
      upstream.on('data', (chunk: Buffer) => observer.toClient(chunk));
    }
    // Client to server: delayed while slow(), in order; server to client: piped. One FIFO
    // and one timer per connection: a timer per chunk can fire out of order (Node runs
    // timers per duration list, so two chunks due at the same moment may swap), which
    // corrupted the byte stream (Redis answered "Protocol error" and dropped the connection,
    // a fault that is not "slow").
    const queue: Array<{ at: number; chunk: Buffer }> = [];
    let timer: NodeJS.Timeout | undefined;
    const pump = () => {
      timer = undefined;
      while (queue.length > 0 && queue[0]!.at <= Date.now()) {
        const { chunk } = queue.shift()!;
        if (!upstream.destroyed && mode === 'forward') upstream.write(chunk);
      }
      if (queue.length > 0) timer = setTimeout(pump, queue[0]!.at - Date.now());
    };
    client.on('close', () => clearTimeout(timer));
    client.on('data', (chunk: Buffer) => {
      if (delay === undefined && queue.length === 0) {
        upstream.write(chunk);
        if (hangTrigger?.(chunk) === true) hang(); // before the server's answer can be read
        return;
      }
      const after = queue.at(-1)?.at ?? 0;
      queue.push({ at: Math.max(after, Date.now() + (delay?.(chunk) ?? 0)), chunk });
      timer ??= setTimeout(pump, queue[0]!.at - Date.now());
    });
    client.on('end', () => upstream.end());
    upstream.pipe(client);
  });
  const port = await listenOnStablePort(server);
  let listening = true;
  server.on('error', (error: NodeJS.ErrnoException) => {
    // restore() after cut(): the port is taken again, and another proxy may hold it for a
    // moment (it tried it at random): tried again until it is free, or the proxy closes.
    if (error.code !== 'EADDRINUSE') throw error;
    setTimeout(() => {
      if (listening && !server.listening) server.listen(port, '127.0.0.1');
    }, 50).unref();
  });
  const listen = () => {
    if (listening) return;
    listening = true;
    server.listen(port, '127.0.0.1');
  };
  const hang = () => {
    mode = 'hang';
    hangTrigger = undefined;
    listen();
    for (const [client, upstream] of pairs) {
      client.removeAllListeners('data');
      upstream?.unpipe();
    }
  };
  const dropAll = () => {
    for (const [client, upstream] of pairs) {
      client.resetAndDestroy();
      upstream?.destroy();
    }
    pairs.clear();
  };
  return {
    port,
    url: (template) => {
      const parsed = new URL(template);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    cut: () => {
      mode = 'cut';
      if (listening) {
        listening = false;
        server.close();
      }
      dropAll();
    },
    hang,
    hangAfter: (match) => {
      hangTrigger = match;
    },
    slow: (delayMs) => {
      delay = typeof delayMs === 'function' ? delayMs : () => delayMs;
    },
    restore: () => {
      if (mode === 'hang') dropAll();
      mode = 'forward';
      delay = undefined;
      hangTrigger = undefined;
      listen();
    },
    close: async () => {
      dropAll();
      if (!listening) return;
      listening = false;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
